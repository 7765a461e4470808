/**
 * Raw HTTP/1.1 over a socket, for requests `fetch` refuses to send: control
 * characters in headers, malformed request lines, conflicting framing.
 */
import { connect } from 'node:net';
import type { Answer } from '../helpers/http.ts';

/**
 * Writes `bytes` to the server at `baseUrl` and reads one answer, until the
 * server closes the connection or `Content-Length` bytes of body arrived.
 *
 * @example
 * const answer = await rawRequest(app.baseUrl, 'GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
 */
export async function rawRequest(baseUrl: string, bytes: string | Buffer, timeoutMs = 5000): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1];
      if (end !== -1 && length !== undefined && Buffer.concat(chunks).length >= end + 4 + Number(length)) done();
    });
    socket.on('end', done);
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(err);
    });
    socket.write(bytes);
  });
  const text = raw.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, end === -1 ? text.length : end).split('\r\n');
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const bodyText = end === -1 ? '' : text.slice(end + 4);
  const body = (headers.get('content-type') ?? '').includes('json') && bodyText !== '' ? (JSON.parse(bodyText) as unknown) : bodyText;
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body, text: bodyText };
}
