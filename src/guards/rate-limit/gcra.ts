/**
 * The Generic Cell Rate Algorithm (GCRA): the arithmetic of the rate
 * limiter, shared by the in-memory store and (mirrored in Lua) the Redis store.
 *
 * Why GCRA and not a fixed window: a fixed window lets a client spend its
 * whole quota just before a boundary and again just after it, double the
 * limit within a moment. GCRA keeps one value per client, the theoretical
 * arrival time (TAT): every admitted request pushes it `window / limit`
 * further into the future, and a request is refused when that would put it
 * more than one window ahead of now. A fresh client may spend the whole
 * quota at once; after that the quota refills smoothly at `limit / window`,
 * so no instant ever hands out a second full quota.
 *
 * The TAT is kept exactly, in integer microseconds plus a remainder in
 * 1/limit µs, because `window / limit` is rarely a whole number: floating
 * sums drift (at epoch magnitudes, by more than a microsecond per step) and
 * would refuse the last request of an exact burst or admit one too many.
 *
 * Why our own: @fastify/rate-limit counts fixed windows, and GCRA libraries
 * own their storage; ours must run the same arithmetic in memory and inside
 * one Redis script.
 */

/** One quota: `limit` requests per `windowMs`, named for the RateLimit headers. */
export interface Policy {
  /** Policy name, a Structured Field String: printable ASCII. */
  readonly name: string;
  readonly limit: number;
  /** A whole number of milliseconds. */
  readonly windowMs: number;
}

/** A theoretical arrival time: `us + rem / limit` microseconds. */
export interface Tat {
  us: number;
  rem: number;
}

/** The outcome of one request against one policy, in the units the headers need. */
export interface Decision {
  allowed: boolean;
  /** Requests that could be admitted right now (RateLimit `r`). */
  remaining: number;
  /** Seconds until `remaining` grows by at least one (RateLimit `t`). */
  resetSeconds: number;
  /** Seconds until a refused request could be admitted; 0 when admitted. */
  retryAfterSeconds: number;
}

/** The raw step result: the TAT to keep and how far it is ahead of now. */
export interface Step {
  allowed: boolean;
  /** The TAT to keep (the old one, or now, when refused). */
  tat: Tat;
  /** TAT minus now, in milliseconds; never negative. */
  aheadMs: number;
}

/**
 * Applies one request of `cost` units (default 1) at `nowUs` (whole
 * microseconds) to the stored TAT (undefined: never seen, or forgotten).
 * `force` spends the cost even past the limit: a cost known only after the
 * work (database time) is owed, and refuses later requests until repaid.
 * A cost of 0 only asks whether the client is within its quota.
 *
 * @example
 * gcraStep(undefined, 0, { name: 'default', limit: 100, windowMs: 60_000 });
 * // { allowed: true, tat: { us: 600_000, rem: 0 }, aheadMs: 600 }
 */
export function gcraStep(tat: Tat | undefined, nowUs: number, policy: Policy, cost = 1, force = false): Step {
  const limit = policy.limit;
  const windowUs = policy.windowMs * 1000;
  // Exact while cost × window stays below 2^53 µs (cost up to ~10^8 for a minute).
  const stepUs = Math.floor((windowUs * cost) / limit);
  const stepRem = (windowUs * cost) % limit;
  const start = tat === undefined || tat.us < nowUs ? { us: nowUs, rem: 0 } : tat;
  let us = start.us + stepUs;
  let rem = start.rem + stepRem;
  if (rem >= limit) {
    us += 1;
    rem -= limit;
  }
  // next - now > window, exactly, in units of 1/limit µs.
  if (!force && (us - nowUs - windowUs) * limit + rem > 0) return { allowed: false, tat: start, aheadMs: aheadMsOf(start, nowUs, limit) };
  const next = { us, rem };
  return { allowed: true, tat: next, aheadMs: aheadMsOf(next, nowUs, limit) };
}

/**
 * Gives back one request's worth of quota: the TAT moves `window / limit`
 * back, never before now. Undefined means nothing is left to keep. Used where
 * only failures are charged but the charge must come first, so that
 * concurrent attempts cannot all pass a check before any is counted (see
 * auth-failures.ts).
 *
 * @example
 * gcraRefund({ us: 600_000, rem: 0 }, 0, { name: 'default', limit: 100, windowMs: 60_000 }); // undefined
 */
export function gcraRefund(tat: Tat | undefined, nowUs: number, policy: Policy): Tat | undefined {
  if (tat === undefined) return undefined;
  const windowUs = policy.windowMs * 1000;
  let us = tat.us - Math.floor(windowUs / policy.limit);
  let rem = tat.rem - (windowUs % policy.limit);
  if (rem < 0) {
    us -= 1;
    rem += policy.limit;
  }
  return us > nowUs || (us === nowUs && rem > 0) ? { us, rem } : undefined;
}

function aheadMsOf(tat: Tat, nowUs: number, limit: number): number {
  return (tat.us - nowUs + tat.rem / limit) / 1000;
}

/**
 * Turns a step's `aheadMs` into header values.
 *
 * `resetSeconds` follows draft-ietf-httpapi-ratelimit-headers-11 §4.1.2: the
 * time within which the client can use no more than `remaining`. Under GCRA
 * that is the time until the next request's worth of quota comes back, not
 * until the quota is full again (it refills continuously). On a refusal it
 * equals `retryAfterSeconds`, so Retry-After never points before the end of
 * that window, as §6 asks.
 *
 * @example
 * describeStep(true, 600, { name: 'default', limit: 100, windowMs: 60_000 });
 * // { allowed: true, remaining: 99, resetSeconds: 1, retryAfterSeconds: 0 }
 */
export function describeStep(allowed: boolean, aheadMs: number, policy: Policy, cost = 1): Decision {
  const interval = policy.windowMs / policy.limit;
  if (!allowed) {
    // Until a request of `cost` units fits again (a check of cost 0: until the debt is repaid).
    const retryAfterSeconds = Math.max(1, Math.ceil((aheadMs + interval * cost - policy.windowMs) / 1000));
    return { allowed, remaining: 0, resetSeconds: retryAfterSeconds, retryAfterSeconds };
  }
  // The epsilon absorbs rounding in the division, e.g. 5.9999999 for 6.
  const remaining = Math.min(policy.limit, Math.max(0, Math.floor((policy.windowMs - aheadMs) / interval + 1e-9)));
  const untilNextMs = aheadMs + interval * (remaining + 1) - policy.windowMs;
  return { allowed, remaining, resetSeconds: Math.max(1, Math.ceil(untilNextMs / 1000)), retryAfterSeconds: 0 };
}
