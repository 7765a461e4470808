/**
 * The RateLimit-Policy and RateLimit response fields of
 * draft-ietf-httpapi-ratelimit-headers-11, as RFC 8941 Structured Fields:
 *
 *   RateLimit-Policy: "default";q=100;w=60   quota q per window of w seconds
 *   RateLimit: "default";r=42;t=17           r left now; t seconds until r grows
 *
 * The policy value never changes, so it is built once per policy.
 */
import type { Decision, Policy } from './gcra.ts';

/**
 * @example
 * policyField({ name: 'default', limit: 100, windowMs: 60_000 }); // '"default";q=100;w=60'
 */
export function policyField(policy: Policy): string {
  return `${sfString(policy.name)};q=${policy.limit};w=${Math.ceil(policy.windowMs / 1000)}`;
}

/**
 * @example
 * rateLimitField(policy, { allowed: true, remaining: 42, resetSeconds: 17, retryAfterSeconds: 0 }); // '"default";r=42;t=17'
 */
export function rateLimitField(policy: Policy, decision: Decision): string {
  return `${sfString(policy.name)};r=${decision.remaining};t=${decision.resetSeconds}`;
}

/** An RFC 8941 String: printable ASCII, with `"` and `\` escaped. */
function sfString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`rate-limit policy name ${JSON.stringify(text)} is not printable ASCII`);
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
