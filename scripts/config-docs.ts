/**
 * `npm run config:docs`: regenerates `.env.example` and the README's
 * settings table (between the settings markers) from src/config/settings.ts.
 * `--check` writes nothing and exits 1 when either file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { driftedDocs, renderEnvExample, withReadmeTable } from '../src/config/docs.ts';

const files = { envExample: readFileSync('.env.example', 'utf8'), readme: readFileSync('README.md', 'utf8') };

if (process.argv.includes('--check')) {
  const drifted = driftedDocs(files);
  if (drifted.length > 0) {
    console.error(`${drifted.join(' and ')} out of date with src/config/settings.ts: run npm run config:docs`);
    process.exit(1);
  }
  console.log('.env.example and README.md match src/config/settings.ts');
} else {
  writeFileSync('.env.example', renderEnvExample());
  writeFileSync('README.md', withReadmeTable(files.readme));
  console.log('wrote .env.example and the README settings table');
}
