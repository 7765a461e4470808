/**
 * First-in, first-out queue of acquire requests, with O(1) removal.
 *
 * A waiter that times out is only marked; it is skipped when it reaches the
 * head. That keeps timeout cleanup O(1) without a linked list, and `length`
 * stays exact because it counts live waiters, not slots.
 */

export interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  enqueuedAt: number;
  settled: boolean;
}

export class WaitQueue<T> {
  #items: (Waiter<T> | undefined)[] = [];
  #head = 0;
  #live = 0;
  readonly #members = new WeakSet<Waiter<T>>();

  get length(): number {
    return this.#live;
  }

  push(waiter: Waiter<T>): void {
    this.#items.push(waiter);
    this.#members.add(waiter);
    this.#live++;
  }

  /** Marks a waiter as gone (timed out); it will be skipped. */
  remove(waiter: Waiter<T>): void {
    if (!waiter.settled) {
      waiter.settled = true;
      this.#live--;
    }
  }

  /** The oldest live waiter, removed from the queue, or undefined. */
  shift(): Waiter<T> | undefined {
    while (this.#head < this.#items.length) {
      const w = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (w !== undefined && !w.settled) {
        w.settled = true;
        this.#live--;
        this.#compact();
        return w;
      }
    }
    this.#compact();
    return undefined;
  }

  /** The newest live waiter, removed from the queue, or undefined (adaptive LIFO). */
  pop(): Waiter<T> | undefined {
    while (this.#items.length > this.#head) {
      const w = this.#items.pop();
      if (w !== undefined && !w.settled) {
        w.settled = true;
        this.#live--;
        this.#members.delete(w);
        this.#compact();
        return w;
      }
      if (w !== undefined) this.#members.delete(w);
    }
    this.#compact();
    return undefined;
  }

  /** The oldest live waiter, left in place. */
  oldest(): Waiter<T> | undefined {
    for (let i = this.#head; i < this.#items.length; i++) {
      const w = this.#items[i];
      if (w !== undefined && !w.settled) return w;
    }
    return undefined;
  }

  owns(waiter: Waiter<T>): boolean {
    return this.#members.has(waiter);
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Three queues: `high` and `critical` waiters, then `normal`, then `low`,
 * so a connection inside the high reserve goes to the first only, a free
 * connection to the most important waiter, and each class can be served
 * newest-first (adaptive LIFO, codel.ts) while CoDel drops.
 *
 * @example
 * const q = new PriorityWaitQueue<Conn>();
 * q.push(waiter, 'low');
 * q.shift({ rest: false, lifo: false }); // only a high/critical waiter, or undefined
 */
export class PriorityWaitQueue<T> {
  readonly #urgent = new WaitQueue<T>();
  readonly #normal = new WaitQueue<T>();
  readonly #low = new WaitQueue<T>();

  get length(): number {
    return this.#urgent.length + this.#normal.length + this.#low.length;
  }

  /** Waiters more important than `low`: what shedding a low request would protect. */
  get aboveLow(): number {
    return this.#urgent.length + this.#normal.length;
  }

  /** `high` and `critical` waiters. */
  get urgent(): number {
    return this.#urgent.length;
  }

  push(waiter: Waiter<T>, priority: 'critical' | 'high' | 'normal' | 'low' = 'normal'): void {
    (priority === 'critical' || priority === 'high' ? this.#urgent : priority === 'low' ? this.#low : this.#normal).push(waiter);
  }

  remove(waiter: Waiter<T>): void {
    // `settled` is shared, so marking through either queue is the same; only the owner's count moves.
    if (waiter.settled) return;
    if (this.#urgent.owns(waiter)) this.#urgent.remove(waiter);
    else if (this.#normal.owns(waiter)) this.#normal.remove(waiter);
    else this.#low.remove(waiter);
  }

  /** Urgent waiters first, then normal, then low; the last two only when `rest` (outside the high reserve). */
  shift(options: { rest?: boolean; lifo?: boolean } = {}): Waiter<T> | undefined {
    const { rest = true, lifo = false } = options;
    const take = (q: WaitQueue<T>): Waiter<T> | undefined => (lifo ? q.pop() : q.shift());
    return take(this.#urgent) ?? (rest ? (take(this.#normal) ?? take(this.#low)) : undefined);
  }

  /** When the oldest live waiter queued, or undefined when none waits. */
  oldestEnqueuedAt(): number | undefined {
    let oldest: number | undefined;
    for (const q of [this.#urgent, this.#normal, this.#low]) {
      const at = q.oldest()?.enqueuedAt;
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest;
  }
}
