/**
 * The one dashboard sampler of the process, shared by every open stream.
 *
 * Cost model: while at least one client is subscribed, a single timer builds
 * one frame per interval, serialises it once, and hands the same string to
 * every subscriber. No client has its own timer, query or serialisation, so
 * twenty open dashboards cost what one does plus twenty socket writes. With
 * no subscriber the timer is stopped and the feed costs nothing. The timer is
 * unref'd: an open dashboard never keeps the process alive.
 *
 * The last `historySize` frames are kept (without their slow-query tables)
 * so a new page draws the last two minutes at once instead of starting empty.
 */
import type { DashboardFrame } from './frame.ts';
import { createFrameSampler, type DashboardSources, type FrameSampler } from './sampler.ts';

export interface DashboardFeedOptions {
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Frames kept for new subscribers. Default 120 (two minutes at 1 s). */
  historySize?: number;
  /** Told of a failed sample, at most once a minute. */
  onError?: (err: unknown) => void;
  /** Replaces the frame builder (tests). */
  sampler?: FrameSampler;
}

/** Receives Server-Sent Events text, ready to write to the socket. */
export type FeedSubscriber = (chunk: string) => void;

export interface DashboardFeed {
  /** Adds a subscriber (starting the timer if it is the first); returns its unsubscribe. */
  subscribe(subscriber: FeedSubscriber): () => void;
  /** The kept frames as one `history` event (empty string when there are none). */
  history(): string;
  readonly subscribers: number;
  /** Builds and broadcasts one frame now; the timer calls this. */
  tick(): Promise<DashboardFrame | undefined>;
  /** Stops the timer and drops every subscriber. */
  close(): void;
}

/**
 * @example
 * const feed = createDashboardFeed({ pool, pressure, rateLimiter, cache, profiler, metrics });
 * const unsubscribe = feed.subscribe((chunk) => response.write(chunk));
 * // on disconnect:
 * unsubscribe();
 */
export function createDashboardFeed(sources: DashboardSources, options: DashboardFeedOptions = {}): DashboardFeed {
  const intervalMs = options.intervalMs ?? 1000;
  const historySize = options.historySize ?? 120;
  const sampler = options.sampler ?? createFrameSampler(sources);
  const subscribers = new Set<FeedSubscriber>();
  const history: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<DashboardFrame | undefined> | undefined;
  let lastErrorAt = 0;

  function start(): void {
    sampler.reset();
    history.length = 0;
    // The baseline for the first interval's rates; broadcasts nothing.
    running = sampler
      .sample(subscribers.size)
      .then(
        () => undefined,
        (err: unknown) => reportError(err),
      )
      .finally(() => {
        running = undefined;
      });
    timer = setInterval(() => void tick(), intervalMs);
    timer.unref();
  }

  function stop(): void {
    clearInterval(timer);
    timer = undefined;
    history.length = 0;
  }

  function tick(): Promise<DashboardFrame | undefined> {
    // A slow sample is never overlapped by the next one: that tick is skipped.
    if (running !== undefined) return Promise.resolve(undefined);
    running = (async () => {
      try {
        const frame = await sampler.sample(subscribers.size);
        broadcast(frame);
        return frame;
      } catch (err) {
        reportError(err);
        return undefined;
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function broadcast(frame: DashboardFrame): void {
    const json = JSON.stringify(frame);
    const { slowQueries: _omitted, ...compact } = frame;
    history.push(JSON.stringify(compact));
    if (history.length > historySize) history.splice(0, history.length - historySize);
    const chunk = `event: frame\ndata: ${json}\n\n`;
    for (const subscriber of subscribers) subscriber(chunk);
  }

  function reportError(err: unknown): undefined {
    const now = Date.now();
    if (now - lastErrorAt >= 60_000) {
      lastErrorAt = now;
      options.onError?.(err);
    }
    return undefined;
  }

  return {
    subscribe: function subscribe(subscriber) {
      subscribers.add(subscriber);
      if (timer === undefined) start();
      return function unsubscribe() {
        if (!subscribers.delete(subscriber)) return;
        if (subscribers.size === 0) stop();
      };
    },
    history: function historyEvent() {
      return history.length === 0 ? '' : `event: history\ndata: [${history.join(',')}]\n\n`;
    },
    get subscribers() {
      return subscribers.size;
    },
    tick,
    close: function closeFeed() {
      subscribers.clear();
      stop();
    },
  };
}
