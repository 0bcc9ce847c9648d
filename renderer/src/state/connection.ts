// The service connection, shared with every view through React context.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Connection } from '../client/connect';
import type { ConnectionState } from '../client/reconnectingClient';

export const ConnectionContext = createContext<Connection | null>(null);

export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error('useConnection outside ConnectionContext');
  return connection;
}

/** The connection's state (connected or lost, and the epoch), re-rendering on every change. */
export function useConnectionState(): ConnectionState {
  const connection = useConnection();
  return useSyncExternalStore(connection.onState, connection.state);
}
