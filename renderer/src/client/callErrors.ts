// For background loads (lists, reports) whose failure has no place of its own on screen: a lost
// connection is already shown by the banner, and the view reloads once the service is back; any
// other failure is logged rather than left as an unhandled rejection.
import { DISCONNECTED } from '../../../electron/contract/rpc';

export function unlessDisconnected(error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === DISCONNECTED || code === 'timeout') return;
  console.error('vsw:', error);
}
