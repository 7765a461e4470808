/**
 * Number formatting shared by the terminal, markdown and HTML reports, so
 * a value reads the same in all three.
 */

/** @example formatMs(0.834); // '0.83 ms' */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)} ms`;
}

/** @example formatRate(12345.6); // '12,346' */
export function formatRate(n: number | undefined): string {
  return n === undefined ? '—' : Math.round(n).toLocaleString('en-US');
}

/** @example formatPercent(0.9987); // '99.87%' */
export function formatPercent(share: number | undefined): string {
  if (share === undefined) return '—';
  const p = share * 100;
  if (p === 100 || p === 0) return `${p}%`;
  // Never round a failure away: 99.996% must not read as 100.00%.
  const two = p.toFixed(2);
  if (two !== '100.00') return `${two}%`;
  const three = p.toFixed(3);
  return three === '100.000' ? '>99.999%' : `${three}%`;
}

/** @example formatCount(1234); // '1,234' */
export function formatCount(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US');
}

/** @example formatRatio(1.234); // '1.23×' */
export function formatRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`;
}

/**
 * A markdown table; cells are escaped for `|`.
 *
 * @example
 * markdownTable(['a', 'b'], [['1', '2']]); // '| a | b |\n|---|---|\n| 1 | 2 |'
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** `yyyy-mm-ddThh-mm-ss`, safe in a file name. @example fileStamp(new Date(0)); // '1970-01-01T00-00-00' */
export function fileStamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/:/g, '-');
}
