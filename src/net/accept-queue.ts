/**
 * How many connections wait in the kernel for this process to accept them:
 * the listening socket's accept queue, read from /proc/net/tcp and tcp6.
 *
 * Why: since libuv 1.45 (Node 20) a server accepts one connection per
 * event-loop turn (libuv#3696). A saturated server turns its loop slowly,
 * each turn serving every socket that became readable, so a burst of new
 * connections (a restart, a balancer's reconnects, a load test's start) can
 * wait seconds in this queue. No request histogram sees that wait: a request
 * is timed from its arrival in the process. docs/BENCHMARKS.md has the
 * measurement. Node offers no reading of it, so this parses the kernel's
 * table, where a LISTEN socket's rx_queue is its current accept queue (the
 * queue's limit, the listen backlog, is not in that table).
 *
 * @example
 * await acceptQueue(8080); // 0, or undefined off Linux
 */
import { readFile } from 'node:fs/promises';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
const LISTEN = '0A';

/**
 * Connections waiting to be accepted by the sockets listening on `port`
 * (summed over IPv4 and IPv6), or undefined when no table can be read or
 * nothing listens there.
 *
 * @example
 * const waiting = await acceptQueue(server.address().port);
 */
export async function acceptQueue(port: number, tables: readonly string[] = TABLES): Promise<number | undefined> {
  let found: number | undefined;
  for (const table of tables) {
    let text: string;
    try {
      text = await readFile(table, 'latin1');
    } catch {
      continue;
    }
    const waiting = parseListenQueue(text, port);
    if (waiting !== undefined) found = (found ?? 0) + waiting;
  }
  return found;
}

/**
 * The accept queues of the LISTEN rows for `port` in one /proc/net/tcp{,6}
 * table, summed; undefined when there is none.
 *
 * @example
 * parseListenQueue(text, 8080); // 3
 */
export function parseListenQueue(text: string, port: number): number | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let found: number | undefined;
  // Row: "sl local_address rem_address st tx_queue:rx_queue …", addresses as HEXIP:HEXPORT.
  for (const line of text.split('\n')) {
    if (!line.includes(hexPort)) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== LISTEN || fields[1]?.endsWith(hexPort) !== true) continue;
    const waiting = Number.parseInt((fields[4] ?? '').split(':')[1] ?? '', 16);
    if (!Number.isNaN(waiting)) found = (found ?? 0) + waiting;
  }
  return found;
}
