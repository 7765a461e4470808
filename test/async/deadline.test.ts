import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineError, withDeadline } from '../../src/async/deadline.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('withDeadline', () => {
  it('settles like the work and clears its timer when the work wins, resolved or rejected', async () => {
    vi.useFakeTimers();
    await expect(withDeadline(Promise.resolve(7), 100, 'work')).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
    await expect(withDeadline(Promise.reject(new Error('no')), 100, 'work')).rejects.toThrow('no');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with a typed DeadlineError when the limit passes first, and leaves no timer', async () => {
    vi.useFakeTimers();
    const late = withDeadline(new Promise<never>(() => {}), 100, 'the probe');
    const outcome = late.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(99);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err).toMatchObject({ what: 'the probe', ms: 100, message: 'the probe did not answer within 100 ms' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts any thenable, such as a Fastify instance closing', async () => {
    const thenable: PromiseLike<string> = { then: (resolve) => Promise.resolve('closed').then(resolve) };
    await expect(withDeadline(thenable, 100, 'close')).resolves.toBe('closed');
  });
});
