/**
 * `npm run build`: compiles the service to dist/ (see scripts/build/compile.ts).
 * `npm start` runs it first.
 */
import { compile } from './build/compile.ts';

const started = performance.now();
try {
  const outDir = await compile();
  console.log(`Built ${outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
