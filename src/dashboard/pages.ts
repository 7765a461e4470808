/**
 * The login page, and the security headers every dashboard page carries.
 *
 * The login page is self-contained (its stylesheet is inline) because
 * everything under /admin/dashboard, assets included, requires a session.
 * The Content-Security-Policy still forbids inline code: it allows exactly
 * that one stylesheet by its hash, and no inline script anywhere.
 */
import { createHash } from 'node:crypto';

const LOGIN_STYLE = `
body{font:15px/1.5 system-ui,sans-serif;background:#10141a;color:#e6e9ef;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#1a2029;padding:2rem 2.25rem;border-radius:10px;width:22rem;box-shadow:0 8px 30px #0006}
h1{font-size:1.2rem;margin:0 0 1.25rem}
label{display:block;font-size:.85rem;color:#9aa4b2;margin-bottom:.35rem}
input{width:100%;box-sizing:border-box;padding:.55rem .65rem;border-radius:6px;border:1px solid #3a4452;background:#0f1319;color:inherit;font:inherit}
button{margin-top:1rem;width:100%;padding:.6rem;border:0;border-radius:6px;background:#3b82f6;color:#fff;font:inherit;cursor:pointer}
.error{background:#4c1d1d;color:#fecaca;border-radius:6px;padding:.5rem .7rem;margin-bottom:1rem;font-size:.9rem}
`;

const LOGIN_STYLE_HASH = `'sha256-${createHash('sha256').update(LOGIN_STYLE, 'utf8').digest('base64')}'`;

const BASE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
];

/**
 * Headers for an HTML answer: no caching, no framing, no sniffing, no referrer, and a strict CSP.
 *
 * @example
 * reply.headers(pageHeaders('dashboard'));
 */
export function pageHeaders(page: 'login' | 'dashboard'): Record<string, string> {
  const styles = page === 'login' ? `style-src ${LOGIN_STYLE_HASH}` : "style-src 'self'";
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': [...BASE_POLICY, styles].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/**
 * The login form; `error` is shown above it (it is escaped, though it only ever comes from this module).
 *
 * @example
 * reply.code(401).headers(pageHeaders('login')).send(loginPage('That token is not valid.'));
 */
export function loginPage(error?: string): string {
  const message = error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Holdfast · admin login</title>
<style>${LOGIN_STYLE}</style>
</head>
<body>
<form method="post" action="/admin/login">
<h1>Holdfast dashboard</h1>
${message}
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
