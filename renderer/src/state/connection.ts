// The service connection, shared with every view through React context.
import { createContext, useContext } from 'react';
import type { Connection } from '../client/connect';

export const ConnectionContext = createContext<Connection | null>(null);

export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error('useConnection outside ConnectionContext');
  return connection;
}
