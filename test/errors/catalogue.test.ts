import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES } from '../../src/errors/catalogue.ts';

const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');

/** `### CODE` sections of docs/ERRORS.md, with the status each one states. */
function documentedCodes(): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of doc.split(/^### /m).slice(1)) {
    const code = part.slice(0, part.indexOf('\n')).trim();
    sections.set(code, part);
  }
  return sections;
}

describe('error catalogue documentation', () => {
  const sections = documentedCodes();

  it.each(ERROR_CODES)('documents %s with its status, meaning and client action', (code) => {
    const section = sections.get(code);
    expect(section, `docs/ERRORS.md has no "### ${code}" section`).toBeDefined();
    expect(section).toContain(`**Status:** ${ERROR_CATALOGUE[code].status}\n`);
    expect(section).toMatch(/\*\*Meaning:\*\* \S/);
    expect(section).toMatch(/\*\*Client:\*\* \S/);
  });

  it('documents no code that the catalogue does not have', () => {
    expect([...sections.keys()].filter((code) => !ERROR_CODES.includes(code as never))).toEqual([]);
  });

  it('has only 4xx and 5xx codes, each with a title', () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_CATALOGUE[code].status).toBeGreaterThanOrEqual(400);
      expect(ERROR_CATALOGUE[code].status).toBeLessThan(600);
      expect(ERROR_CATALOGUE[code].title.length).toBeGreaterThan(0);
    }
  });
});
