/**
 * A line chart as an inline SVG string: the HTML report must open offline,
 * from a file, with no script and no CDN, so the charts are drawn here.
 * Load levels sit at even steps along x (they are chosen, not measured).
 */

/** @example const point: ChartPoint = { label: '100', value: 5230 }; */
export interface ChartPoint {
  label: string;
  value: number;
}

/** @example const options: ChartOptions = { title: 'req/s', points, format: (v) => v.toFixed(0) }; */
export interface ChartOptions {
  title: string;
  xLabel?: string;
  points: readonly ChartPoint[];
  format?: (value: number) => string;
  /** Fixed top of the y axis (e.g. 100 for percentages); default: a round number above the largest value. */
  yMax?: number;
  width?: number;
  height?: number;
}

/**
 * Escapes text for XML and HTML.
 *
 * @example
 * escapeXml('<a & b>'); // '&lt;a &amp; b&gt;'
 */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
}

/**
 * @example
 * lineChart({ title: 'req/s by users', points: [{ label: '50', value: 4100 }, { label: '100', value: 5200 }] });
 * // '<svg xmlns="http://www.w3.org/2000/svg" …'
 */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 260;
  const format = options.format ?? ((v: number) => String(Math.round(v)));
  const margin = { top: 32, right: 16, bottom: 44, left: 64 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = options.points.map((p) => (Number.isFinite(p.value) ? p.value : 0));
  const yMax = options.yMax ?? niceCeiling(Math.max(0, ...values));
  const n = options.points.length;
  const x = (i: number) => margin.left + (n <= 1 ? plotW / 2 : (plotW * i) / (n - 1));
  const y = (v: number) => margin.top + plotH - (plotH * Math.min(Math.max(v, 0), yMax)) / yMax;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${margin.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="11">${escapeXml(format(v))}</text>`,
    );
  }
  options.points.forEach((p, i) => {
    parts.push(
      `<text x="${x(i).toFixed(1)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(p.label)}</text>`,
    );
  });
  if (options.xLabel !== undefined) {
    parts.push(
      `<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (n > 0) {
    const path = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
    values.forEach((v, i) => {
      parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="#1f77b4"><title>${escapeXml(`${options.points[i]!.label}: ${format(v)}`)}</title></circle>`,
      );
    });
  }
  parts.push('</svg>');
  return parts.join('\n');
}
