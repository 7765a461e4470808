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

  get length(): number {
    return this.#live;
  }

  push(waiter: Waiter<T>): void {
    this.#items.push(waiter);
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
