// `--open FOLDER` on the app's command line: import it when the service starts. A failure is
// reported (main shows it to the reviewer), never left as a silent rejected promise.
import type { ServiceEvent } from '../contract/protocol';
import type { Workstation } from '../workstation/workstation';

/** The message the service sends main when the folder given with --open cannot be imported. */
export interface OpenFailure {
  type: 'open-failed';
  folder: string;
  message: string;
}

export function isOpenFailure(message: unknown): message is OpenFailure {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Partial<Record<keyof OpenFailure, unknown>>;
  return m.type === 'open-failed' && typeof m.folder === 'string' && typeof m.message === 'string';
}

export async function openFolderAtStart(
  workstation: Pick<Workstation, 'addDataset'>,
  folder: string,
  emit: (event: ServiceEvent) => void,
  reportFailure: (failure: OpenFailure) => void,
): Promise<void> {
  try {
    await workstation.addDataset(folder, undefined);
    emit({ type: 'datasetsChanged' });
  } catch (error) {
    reportFailure({
      type: 'open-failed',
      folder,
      message: error instanceof Error ? error.message : String(error),
    });
  }
}
