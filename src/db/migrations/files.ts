/**
 * Finds and reads the versioned SQL migrations shipped with the code.
 *
 * The directory is located from this module's own URL, not the working
 * directory, so migrations are found however the process was started. The
 * checksum is taken over the text with line endings normalised, so a checkout
 * that converts LF to CRLF does not look like an edited migration.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the application's migrations live.
 *
 * @example
 * MIGRATIONS_DIR // '/srv/holdfast/src/db/migrations/sql/'
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./sql/', import.meta.url));

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/**
 * One migration as read from disk.
 *
 * @example
 * const file: MigrationFile = { version: 1, name: 'store', checksum: '9f2c…', sql: 'CREATE TABLE …' };
 */
export interface MigrationFile {
  version: number;
  name: string;
  /** Hex SHA-256 of the normalised SQL. */
  checksum: string;
  sql: string;
}

/**
 * Reads every `NNN_name.sql` in `directory`, sorted by version. Throws when
 * two files share a version; other files (README, editor backups) are ignored.
 *
 * @example
 * const files = await readMigrationFiles(); // [{ version: 1, name: 'store', checksum: '9f…', sql: '…' }]
 */
export async function readMigrationFiles(directory: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files: MigrationFile[] = [];
  for (const entry of await readdir(directory)) {
    const match = FILE_NAME.exec(entry);
    if (match === null) continue;
    const sql = (await readFile(join(directory, entry), 'utf8')).replace(/\r\n/g, '\n');
    files.push({
      version: Number(match[1]),
      name: match[2] as string,
      checksum: createHash('sha256').update(sql).digest('hex'),
      sql,
    });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    const [previous, current] = [files[i - 1], files[i]] as [MigrationFile, MigrationFile];
    if (previous.version === current.version) {
      throw new Error(`Two migrations share version ${current.version}: ${previous.name} and ${current.name} in ${directory}`);
    }
  }
  return files;
}
