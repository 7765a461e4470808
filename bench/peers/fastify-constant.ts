/**
 * Contender (e): Fastify answering a constant. No database, no hooks: the
 * most this machine's Node and HTTP stack can serve, the ceiling against
 * which Holdfast's /api/health is measured.
 *
 * @example
 * // node dist/bench/peers/fastify-constant.js --port 0   → prints "@@ready http://127.0.0.1:…"
 */
import Fastify from 'fastify';
import { announce, peerFlags } from './peer-runtime.ts';

const flags = peerFlags(process.argv.slice(2), { poolMax: 0 });
const app = Fastify({ logger: false });
app.get('/api/health', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: flags.port });
const address = app.server.address();
announce(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : flags.port}`, () => app.close());
