// A ServiceClient that outlives its connection. When the transport closes, pending calls fail at
// once, the status turns 'lost', and it reconnects with growing delays; once back, the status is
// 'connected' again with a new epoch, which the window uses to reload what it shows. A call made
// while the service is away waits for it, and fails with a timeout if it does not come back.
import {
  createRpcClient,
  ProtocolError,
  type MessageChannelLike,
  type ServiceClient,
} from '../../../electron/contract/rpc';
import type { ServiceEvent } from '../../../electron/contract/protocol';

export type ConnectionState = { status: 'connected' | 'lost'; epoch: number; attempt: number };

export interface ReconnectOptions {
  /** Delay before reconnect attempt n (0-based), in ms. */
  backoff?: (attempt: number) => number;
  /** How long a call made while disconnected waits for the service before failing. */
  callWaitMs?: number;
  /** Timers, replaceable in tests. */
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/** 0.5 s, 1 s, 2 s, 4 s, then every 8 s. */
export const defaultBackoff = (attempt: number) => Math.min(500 * 2 ** attempt, 8000);

export interface ReconnectingClient {
  client: ServiceClient;
  state(): ConnectionState;
  onState(listener: (state: ConnectionState) => void): () => void;
  /** Stops reconnecting (the window is closing, or a test is done). */
  stop(): void;
}

export async function reconnectingClient(
  open: () => Promise<MessageChannelLike>,
  options: ReconnectOptions = {},
): Promise<ReconnectingClient> {
  const backoff = options.backoff ?? defaultBackoff;
  const callWaitMs = options.callWaitMs ?? 10_000;
  const setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  const eventListeners = new Set<(event: ServiceEvent) => void>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  let waiters: (() => void)[] = [];
  let state: ConnectionState = { status: 'connected', epoch: 0, attempt: 0 };
  let current: ServiceClient;
  let stopped = false;
  let retryTimer: unknown;

  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of stateListeners) listener(state);
  };
  const attach = (channel: MessageChannelLike): ServiceClient => {
    const inner = createRpcClient(channel);
    inner.onEvent((event) => {
      for (const listener of eventListeners) listener(event);
    });
    channel.onClose?.(() => {
      if (current !== inner) return;
      setState({ status: 'lost', epoch: state.epoch, attempt: 0 });
      retry(0);
    });
    return inner;
  };
  const retry = (attempt: number) => {
    if (stopped) return;
    retryTimer = setTimer(() => {
      open().then(
        (channel) => {
          current = attach(channel);
          setState({ status: 'connected', epoch: state.epoch + 1, attempt });
          const ready = waiters;
          waiters = [];
          for (const wake of ready) wake();
        },
        () => {
          setState({ status: 'lost', epoch: state.epoch, attempt: attempt + 1 });
          retry(attempt + 1);
        },
      );
    }, backoff(attempt));
  };
  current = attach(await open());

  const whenConnected = (method: string) =>
    new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimer(timer);
        resolve();
      };
      const timer = setTimer(() => {
        waiters = waiters.filter((w) => w !== wake);
        reject(
          new ProtocolError(
            `the workstation service did not come back within ${callWaitMs / 1000} s (${method})`,
            'timeout',
          ),
        );
      }, callWaitMs);
      waiters.push(wake);
    });

  return {
    client: {
      async call(method, params) {
        if (state.status !== 'connected') await whenConnected(method);
        return current.call(method, params);
      },
      onEvent(listener) {
        eventListeners.add(listener);
        return () => eventListeners.delete(listener);
      },
    },
    state: () => state,
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearTimer(retryTimer);
    },
  };
}
