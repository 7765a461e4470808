/**
 * Request and reply over a node:cluster IPC channel, in both directions:
 * a worker asks the primary for the aggregated metrics, the primary asks a
 * worker for its local ones, and cache invalidations travel worker → primary
 * → workers and back.
 *
 * Node's IPC is fire-and-forget `send` plus a `message` event, so each call
 * carries an id and waits, bounded, for the reply with that id. A handler's
 * error comes back as a rejected call; a peer that has exited, or never
 * answers, costs the caller its timeout and nothing more. Messages without
 * the `holdfast` marker (prom-client's, Node's own) are left alone.
 */

/** The two ends an Rpc needs: `process` in a worker, a `cluster.Worker` in the primary. */
export interface Endpoint {
  send(message: object): void;
  /** Subscribes to incoming messages; returns the unsubscribe function. */
  subscribe(listener: (message: unknown) => void): () => void;
}

type Handler = (body: unknown) => unknown;

interface Request {
  holdfast: 'request';
  id: number;
  method: string;
  body: unknown;
}

interface Reply {
  holdfast: 'reply';
  id: number;
  body?: unknown;
  error?: string;
}

/** A call was not answered within its timeout, or the channel is closed. */
export class RpcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcError';
  }
}

/**
 * One end of the protocol.
 *
 * @example
 * const rpc = createRpc(processEndpoint());
 * rpc.handle('metrics.local', () => registry.getMetricsAsJSON());
 * const text = await rpc.call('metrics.aggregate', {}, 5_000);
 */
export interface Rpc {
  /** Sends `body` to the peer's `method` handler; resolves with its result. */
  call(method: string, body: unknown, timeoutMs: number): Promise<unknown>;
  /** Answers the peer's calls of `method`. One handler per method. */
  handle(method: string, handler: Handler): void;
  /** Fails pending calls and stops listening. */
  close(reason?: string): void;
}

/**
 * Starts listening on `endpoint`; see {@link Rpc}.
 *
 * @example
 * const rpc = createRpc({ send: (m) => worker.send(m), subscribe: (l) => (worker.on('message', l), () => worker.off('message', l)) });
 */
export function createRpc(endpoint: Endpoint): Rpc {
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void; timer: NodeJS.Timeout }>();
  const handlers = new Map<string, Handler>();

  function send(message: Request | Reply): boolean {
    try {
      endpoint.send(message);
      return true;
    } catch {
      return false; // the peer exited: its calls time out or were failed by close()
    }
  }

  async function answer(request: Request): Promise<void> {
    const handler = handlers.get(request.method);
    try {
      if (handler === undefined) throw new Error(`no handler for ${request.method}`);
      send({ holdfast: 'reply', id: request.id, body: await handler(request.body) });
    } catch (err) {
      send({ holdfast: 'reply', id: request.id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const unsubscribe = endpoint.subscribe((message) => {
    if (typeof message !== 'object' || message === null) return;
    const m = message as { holdfast?: unknown; id?: unknown; method?: unknown; error?: unknown; body?: unknown };
    if (m.holdfast === 'request' && typeof m.id === 'number' && typeof m.method === 'string') {
      void answer(m as Request);
    } else if (m.holdfast === 'reply' && typeof m.id === 'number') {
      const waiting = pending.get(m.id);
      if (waiting === undefined) return; // answered after its timeout
      pending.delete(m.id);
      clearTimeout(waiting.timer);
      if (typeof m.error === 'string') waiting.reject(new Error(m.error));
      else waiting.resolve(m.body);
    }
  });

  return {
    call(method, body, timeoutMs) {
      if (closed) return Promise.reject(new RpcError(`${method}: channel closed`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new RpcError(`${method}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        pending.set(id, { resolve, reject, timer });
        if (!send({ holdfast: 'request', id, method, body })) {
          pending.delete(id);
          clearTimeout(timer);
          reject(new RpcError(`${method}: channel closed`));
        }
      });
    },
    handle(method, handler) {
      handlers.set(method, handler);
    },
    close(reason = 'channel closed') {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const [id, waiting] of pending) {
        clearTimeout(waiting.timer);
        waiting.reject(new RpcError(reason));
        pending.delete(id);
      }
    },
  };
}
