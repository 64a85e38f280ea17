/**
 * The routing confusion heatmap of report.html: one row per evaluated task (in-distribution, then
 * held-out, both in family order), one column per adapter request-level Arrow can choose (the
 * library's private adapters, grouped by family; a last column for the base model if any request
 * fell under the threshold), each cell the share of the task's prompts routed first to that
 * column. A thin frame
 * marks the columns of the row's target family, a thick one the task's own adapter, so good routing
 * reads as dark cells inside the frames. Colours follow the data's range (shared/colour-scale.ts).
 * Pure string building, no script.
 */
import { colourLegendSvg, colourScaleFor } from '../../shared/colour-scale.js';
import { escapeXml } from './bar-chart-svg.js';
import type { EvalReport } from './eval-report.js';

export interface ConfusionAdapter {
  id: string;
  family: string;
}

const MAX_LABEL_CHARS = 28;
const shorten = (s: string) => (s.length <= MAX_LABEL_CHARS ? s : `${s.slice(0, MAX_LABEL_CHARS - 1)}…`);

export function routingConfusionSvg(report: Pick<EvalReport, 'tasks' | 'routing' | 'baseModel'>, adapters: readonly ConfusionAdapter[]): string {
  const routing = new Map(report.routing.map((r) => [r.task, r]));
  const familyOrder = [...new Set(adapters.map((a) => a.family))];
  const rank = (family: string) => (familyOrder.includes(family) ? familyOrder.indexOf(family) : familyOrder.length);
  // In-distribution rows first, each split's rows in the columns' family order: good routing is block-diagonal.
  const rows = report.tasks
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => routing.has(t.name))
    .sort((a, b) => Number(a.t.split === 'held-out') - Number(b.t.split === 'held-out') || rank(a.t.targetFamily) - rank(b.t.targetFamily) || a.i - b.i)
    .map(({ t }) => t);
  const columns = [...adapters].sort((a, b) => rank(a.family) - rank(b.family));
  const fellBack = rows.some((t) => (routing.get(t.name)!.top1[report.baseModel] ?? 0) > 0);
  const ids = [...columns.map((c) => c.id), ...(fellBack ? [report.baseModel] : [])];
  const col = new Map(ids.map((id, j) => [id, j]));
  const R = rows.length;
  const C = ids.length;
  const values = new Float64Array(R * C);
  rows.forEach((t, i) => {
    const r = routing.get(t.name)!;
    for (const [id, n] of Object.entries(r.top1)) {
      const j = col.get(id);
      if (j === undefined) throw new RangeError(`task "${t.name}" was routed to "${id}", which is not an adapter of the library`);
      values[i * C + j] = r.examples === 0 ? 0 : n / r.examples;
    }
  });
  const scale = colourScaleFor(values);

  const cell = Math.max(12, Math.min(24, Math.round(720 / Math.max(R, C, 1))));
  const font = Math.min(12, cell - 2);
  const rowLabels = rows.map((t) => shorten(t.name));
  const colLabels = ids.map((id) => shorten(id === report.baseModel && fellBack ? `base (${id})` : id));
  const labelWidth = (labels: readonly string[]) => Math.ceil(Math.max(0, ...labels.map((s) => s.length)) * font * 0.62) + 8;
  const x0 = labelWidth(rowLabels) + 8;
  const titleHeight = 32;
  const y0 = titleHeight + labelWidth(colLabels) + 8;
  const heldOutStart = rows.findIndex((t) => t.split === 'held-out');
  const legendX = x0 + C * cell + 24;
  const legendHeight = Math.max(120, Math.min(R * cell, 320));
  const width = legendX + 110;
  const height = Math.max(y0 + R * cell, y0 + legendHeight + 20) + 16;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="22" font-size="16" font-weight="600">Request-level routing: share of each task's prompts routed first to each adapter</text>`);

  // Cells: one path per colour, in unit squares scaled to the cell size.
  const paths = new Map<string, string[]>();
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      const fill = scale.colour(values[i * C + j]!);
      let parts = paths.get(fill);
      if (!parts) paths.set(fill, (parts = []));
      parts.push(`M${j} ${i}h1v1h-1z`);
    }
  }
  out.push(`<g transform="translate(${x0} ${y0}) scale(${cell})" shape-rendering="crispEdges">`);
  for (const [fill, parts] of [...paths].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out.push(`<path fill="${fill}" d="${parts.join('')}"/>`);
  out.push('</g>');

  // Shares in the cells that have any, when the cells can hold two digits.
  if (cell >= 18) {
    out.push(`<g font-size="${Math.round(cell * 0.42)}" text-anchor="middle" dominant-baseline="central">`);
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < C; j++) {
        const v = values[i * C + j]!;
        if (v === 0) continue;
        out.push(`<text x="${x0 + (j + 0.5) * cell}" y="${y0 + (i + 0.5) * cell}" fill="${scale.darkAt(v) ? '#ffffff' : '#222222'}">${Math.round(100 * v)}</text>`);
      }
    }
    out.push('</g>');
  }

  // Frames: the row's target family (thin), its own adapter (thick).
  out.push(`<g fill="none" stroke="#111111">`);
  rows.forEach((t, i) => {
    const fam = columns.map((c, j) => (c.family === t.targetFamily ? j : -1)).filter((j) => j >= 0);
    if (fam.length > 0) out.push(`<rect stroke-width="1" x="${x0 + fam[0]! * cell}" y="${y0 + i * cell}" width="${(fam.at(-1)! - fam[0]! + 1) * cell}" height="${cell}"/>`);
    const own = t.split === 'in-distribution' ? col.get(t.name) : undefined;
    if (own !== undefined) out.push(`<rect stroke-width="2.5" x="${x0 + own * cell + 1}" y="${y0 + i * cell + 1}" width="${cell - 2}" height="${cell - 2}"/>`);
  });
  if (heldOutStart > 0) out.push(`<path stroke-width="2" d="M${x0 - 6} ${y0 + heldOutStart * cell}h${C * cell + 6}"/>`);
  out.push(`<rect stroke-width="1" x="${x0}" y="${y0}" width="${C * cell}" height="${R * cell}"/>`);
  out.push('</g>');

  // Labels: tasks on the left (held-out ones in italics), adapters on top.
  out.push(`<g font-size="${font}" fill="#222222">`);
  rows.forEach((t, i) => {
    const style = t.split === 'held-out' ? ' font-style="italic"' : '';
    out.push(`<text x="${x0 - 4}" y="${y0 + (i + 0.5) * cell}" text-anchor="end" dominant-baseline="central"${style}><title>${escapeXml(`${t.name} (${t.split}, target family ${t.targetFamily})`)}</title>${escapeXml(rowLabels[i]!)}</text>`);
  });
  ids.forEach((id, j) => {
    const fam = j < columns.length ? columns[j]!.family : 'base model';
    out.push(`<text transform="translate(${x0 + (j + 0.5) * cell} ${y0 - 4}) rotate(-90)" dominant-baseline="central"><title>${escapeXml(`${id} (${fam})`)}</title>${escapeXml(colLabels[j]!)}</text>`);
  });
  out.push('</g>');

  out.push(colourLegendSvg(scale, { x: legendX, y: y0, height: legendHeight, title: 'share of prompts', id: 'quiver-routing-scale', format: (v) => `${Math.round(100 * v)}%` }));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
