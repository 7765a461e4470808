import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { driftedDocs, renderEnvExample, renderReadmeTable, withReadmeTable } from '../../src/config/docs.ts';
import { int } from '../../src/config/kinds.ts';
import { SETTINGS, type SettingRow } from '../../src/config/settings.ts';

const committed = () => ({ envExample: readFileSync('.env.example', 'utf8'), readme: readFileSync('README.md', 'utf8') });

describe('generated configuration docs', () => {
  it('.env.example and the README table match src/config/settings.ts (run npm run config:docs)', () => {
    expect(driftedDocs(committed())).toEqual([]);
  });

  it('notices one edited line in either file', () => {
    const files = committed();
    const envExample = files.envExample.replace('DB_POOL_MAX=40', 'DB_POOL_MAX=41');
    expect(driftedDocs({ ...files, envExample })).toEqual(['.env.example']);
    const readme = files.readme.replace('| `DB_POOL_MAX` | `40` |', '| `DB_POOL_MAX` | `41` |');
    expect(readme).not.toBe(files.readme);
    expect(driftedDocs({ ...files, readme })).toEqual(['README.md']);
  });

  it('lists every setting once, with its default, in both files', () => {
    const envExample = renderEnvExample();
    const table = renderReadmeTable();
    for (const row of SETTINGS as readonly SettingRow[]) {
      const assignment = row.default === undefined || row.default === '' ? `# ${row.env}=` : `\n${row.env}=${row.default}\n`;
      expect(envExample).toContain(assignment);
      expect(table.split('\n').filter((l) => l.startsWith(`| \`${row.env}\` |`))).toHaveLength(1);
    }
  });

  it('a new row shows up in both, with no other edit', () => {
    const row: SettingRow = {
      env: 'NEW_THING_MS',
      path: 'newThing.ms',
      kind: int({ min: 3 }),
      default: '7',
      group: 'server',
      help: 'A new thing.',
      aliases: ['OLD_THING_MS'],
    };
    const table = [...SETTINGS, row];
    expect(renderEnvExample(table)).toContain('# A new thing. Allowed: a whole number ≥ 3. Formerly OLD_THING_MS');
    expect(renderEnvExample(table)).toContain('\nNEW_THING_MS=7\n');
    expect(withReadmeTable(committed().readme, table)).toContain(
      '| `NEW_THING_MS` | `7` | a whole number ≥ 3 | A new thing. Formerly `OLD_THING_MS`. |',
    );
  });
});
