// Transport-independent request/response plumbing over any message channel (a MessagePort in
// Electron, a WebSocket in serve mode). Both ends validate what they receive against protocol.ts.
import {
  EventMessage,
  RequestMessage,
  ResponseMessage,
  describeZodError,
  isMethodName,
  methods,
  type MethodName,
  type Params,
  type Result,
  type ServiceEvent,
} from './protocol';

/** The smallest thing both transports provide: send a JSON-able value, receive them. */
export interface MessageChannelLike {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** A transport that can drop (a WebSocket, a port to a service that died) says so here. */
  onClose?(listener: () => void): void;
}

/** The code of the error every pending call fails with when its connection closes. */
export const DISCONNECTED = 'disconnected';

export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** What the renderer (and tests) talk to, whatever the transport. */
export interface ServiceClient {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  onEvent(listener: (event: ServiceEvent) => void): () => void;
}

export function createRpcClient(channel: MessageChannelLike): ServiceClient {
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; method: MethodName }
  >();
  const listeners = new Set<(event: ServiceEvent) => void>();
  channel.onMessage((raw) => {
    const kind = typeof raw === 'object' && raw !== null && 'kind' in raw ? raw.kind : undefined;
    const parsed = (kind === 'event' ? EventMessage : ResponseMessage).safeParse(raw);
    if (!parsed.success) {
      console.warn(
        `vsw: ignoring malformed message from service: ${describeZodError('message', parsed.error)}`,
      );
      return;
    }
    const message = parsed.data;
    if (message.kind === 'event') {
      for (const listener of listeners) listener(message.event);
    } else if (message.kind === 'response') {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) {
        const result = methods[waiter.method].result.safeParse(message.result);
        if (result.success) waiter.resolve(result.data);
        else waiter.reject(new ProtocolError(describeZodError('result', result.error), 'bad-result'));
      } else {
        waiter.reject(new ProtocolError(message.error.message, message.error.code));
      }
    }
  });
  channel.onClose?.(() => {
    // No answer can come any more: fail every waiting call now instead of letting it hang.
    for (const [id, waiter] of pending) {
      pending.delete(id);
      waiter.reject(
        new ProtocolError(
          `the workstation service went away before answering ${waiter.method}`,
          DISCONNECTED,
        ),
      );
    }
  });
  return {
    call(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
        channel.send({ kind: 'request', id, method, params });
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type Handlers = { [M in MethodName]: (params: z_output<M>) => Promise<Result<M>> | Result<M> };
type z_output<M extends MethodName> = import('zod').output<(typeof methods)[M]['params']>;

/** Errors a handler throws on purpose carry a code; anything else is reported as 'internal'. */
export function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string')
    return error.code;
  return 'internal';
}

/** Answers requests arriving on a channel; returns a function that pushes events to it. */
export function serveRpc(channel: MessageChannelLike, handlers: Handlers): (event: ServiceEvent) => void {
  // Each request starts in a task of its own: requests that arrive together (a grid page and its
  // facet counts) otherwise run back to back before the first one's answer is sent, and a quick
  // page waited for a second of counting.
  channel.onMessage((raw) => void later(() => void answer(raw)));
  const answer = async (raw: unknown) => {
    const id =
      typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1;
    const fail = (message: string, code: string) =>
      channel.send({ kind: 'response', id, ok: false, error: { message, code } });
    try {
      const envelope = RequestMessage.safeParse(raw);
      if (!envelope.success) {
        fail(describeZodError('message', envelope.error), 'bad-message');
        return;
      }
      const request = envelope.data;
      if (!isMethodName(request.method)) {
        const shown = request.method.length > 80 ? `${request.method.slice(0, 80)}…` : request.method;
        fail(`unknown method "${shown}"; known: ${Object.keys(methods).join(', ')}`, 'unknown-method');
        return;
      }
      const params = methods[request.method].params.safeParse(request.params ?? {});
      if (!params.success) {
        fail(describeZodError('params', params.error), 'bad-params');
        return;
      }
      const handler = handlers[request.method] as (p: unknown) => Promise<unknown> | unknown;
      const result = await handler(params.data);
      channel.send({ kind: 'response', id, ok: true, result });
    } catch (error) {
      // A handler's error, or a fault in validation itself (a stack overflow on absurdly deep
      // params): either way the caller gets an answer and the service goes on.
      try {
        fail(error instanceof Error ? error.message : String(error), errorCode(error));
      } catch {
        // the channel itself is gone; nobody is left to answer
      }
    }
  };
  return (event) => channel.send({ kind: 'event', event });
}

/** The next macrotask (answers already sent get written out before it runs). */
function later(task: () => void): void {
  if (typeof setImmediate === 'function') setImmediate(task);
  else setTimeout(task, 0);
}
