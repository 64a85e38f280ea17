/**
 * A horizontal grouped bar chart as a standalone SVG string: one group per category (a system, a
 * task), one bar per series inside it, values in [0, max] with their value printed at the bar's
 * end. Pure string building, no script, no external assets: it renders in any browser.
 */
export interface BarSeries {
  name: string;
  colour: string;
  /** One per category; null draws nothing (no value). */
  values: ReadonlyArray<number | null>;
}

export interface BarChartInput {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** The value at the right edge (default 1). */
  max?: number;
  format?: (v: number) => string;
  /** Width of the plotting area in px (default 420). */
  plotWidth?: number;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function barChartSvg(input: BarChartInput): string {
  const { categories, series } = input;
  for (const s of series) if (s.values.length !== categories.length) throw new RangeError(`series "${s.name}" has ${s.values.length} values for ${categories.length} categories`);
  const max = input.max ?? 1;
  const format = input.format ?? ((v: number) => `${(100 * v).toFixed(1)}%`);
  const plot = input.plotWidth ?? 420;
  const bar = 14;
  const gap = 10;
  const font = 12;
  const labelWidth = Math.ceil(Math.max(8, ...categories.map((c) => c.length)) * font * 0.6) + 12;
  const legendHeight = 22 * Math.ceil(series.length / 3);
  const top = 30 + legendHeight;
  const group = series.length * bar + gap;
  const width = labelWidth + plot + 70;
  const height = top + categories.length * group + 24;
  const x0 = labelWidth;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="${font}" role="img">`);
  out.push(`<title>${escapeXml(input.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="18" font-size="14" font-weight="600">${escapeXml(input.title)}</text>`);
  series.forEach((s, i) => {
    const lx = 8 + (i % 3) * Math.floor((width - 16) / 3);
    const ly = 30 + Math.floor(i / 3) * 22;
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${s.colour}"/><text x="${lx + 17}" y="${ly + 10}">${escapeXml(s.name)}</text>`);
  });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const x = (x0 + f * plot).toFixed(1);
    out.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${height - 20}" stroke="#dddddd"/>`);
    out.push(`<text x="${x}" y="${height - 6}" text-anchor="middle" fill="#666666">${escapeXml(format(f * max))}</text>`);
  }
  categories.forEach((c, ci) => {
    const gy = top + ci * group;
    out.push(`<text x="${x0 - 6}" y="${(gy + (series.length * bar) / 2 + font / 2 - 2).toFixed(1)}" text-anchor="end">${escapeXml(c)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const w = (Math.max(0, Math.min(v, max)) / max) * plot;
      const y = gy + si * bar;
      out.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${s.colour}"><title>${escapeXml(`${c} · ${s.name}: ${format(v)}`)}</title></rect>`);
      out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + bar - 4}" font-size="10" fill="#333333">${escapeXml(format(v))}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
