/**
 * The dashboard's one cookie: read from a `Cookie` header and written as a
 * `Set-Cookie` value. A dozen lines instead of @fastify/cookie, because we
 * need exactly one cookie with fixed attributes in one encapsulated scope.
 *
 * Attributes, and why: HttpOnly (page scripts never need it, so XSS cannot
 * read it), SameSite=Strict (no other site can make the browser send it, which
 * is the CSRF defence for the login and logout forms), Path=/admin (never sent
 * to /api), Secure whenever the request came over HTTPS.
 */

export const SESSION_COOKIE = 'holdfast_admin';

/**
 * The value of cookie `name` in a `Cookie` header, if present.
 *
 * @example
 * readCookie('a=1; holdfast_admin=v1.x', 'holdfast_admin'); // 'v1.x'
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A `Set-Cookie` value for the session; `maxAgeS` 0 clears it.
 *
 * @example
 * reply.header('set-cookie', sessionCookie(value, { maxAgeS: 43200, secure: request.protocol === 'https' }));
 */
export function sessionCookie(value: string, options: { maxAgeS: number; secure: boolean }): string {
  const attributes = [
    `${SESSION_COOKIE}=${value}`,
    'Path=/admin',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeS))}`,
  ];
  if (options.secure) attributes.push('Secure');
  return attributes.join('; ');
}
