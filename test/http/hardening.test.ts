import { describe, expect, it } from 'vitest';
import { API_CSP, helmetHeaders, helmetOptions, unmatchableOrigins } from '../../src/http/hardening.ts';

describe('helmetHeaders', () => {
  it("computes helmet's header set once, with the API's empty CSP and DENY framing", () => {
    const headers = helmetHeaders(helmetOptions());
    expect(headers).toMatchObject({
      'content-security-policy': API_CSP.replace(/; /g, ';'),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    });
    expect(Object.isFrozen(headers)).toBe(true);
  });
});

describe('unmatchableOrigins', () => {
  it('flags entries that no Origin header can equal', () => {
    expect(
      unmatchableOrigins([
        'https://app.example.com',
        'http://localhost:5173',
        'https://app.example.com/',
        '*',
        'app.example.com',
        'https://*.example.com',
        'https://a.example.com/path',
      ]),
    ).toEqual(['https://app.example.com/', '*', 'app.example.com', 'https://*.example.com', 'https://a.example.com/path']);
  });
});
