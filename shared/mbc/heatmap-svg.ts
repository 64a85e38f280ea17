/**
 * The MBC similarity matrix as a standalone SVG heatmap, rows and columns ordered by cluster so
 * the clusters show as blocks on the diagonal. Pure string building: no DOM, runs anywhere.
 *
 * Sized to stay readable from 10 to a few hundred adapters: cells 28 px down to 10 px, labels as
 * large as the cells allow (full id in a tooltip when it is shortened), cells drawn as one path
 * per colour step (a 300 × 300 matrix is 90 000 cells: one element each would be megabytes).
 * Colour: the range of the off-diagonal similarities (shared/colour-scale.ts; the diagonal, 1 by
 * construction, is painted at the top end), so that alike and unlike pairs differ in shade even when
 * every pair lies between 0.55 and 0.75; the legend gives the range.
 */
import { colourLegendSvg, colourScaleFor } from '../colour-scale.js';

export interface HeatmapInput {
  ids: readonly string[];
  /** Row-major [n, n], cosines in [−1, 1]. */
  matrix: ArrayLike<number>;
  /** Cluster of each id, 0..k−1. */
  labels: readonly number[];
  title?: string;
}

const COLOUR_STEPS = 100; // 1% of the scale per step: finer than the eye separates
const MAX_LABEL_CHARS = 32;

export function similarityHeatmapSvg(input: HeatmapInput): string {
  const { ids, matrix, labels } = input;
  const n = ids.length;
  if (matrix.length !== n * n) throw new RangeError(`matrix has ${matrix.length} values, expected ${n}²`);
  if (labels.length !== n) throw new RangeError(`${labels.length} cluster labels for ${n} ids`);

  const order = ids.map((_, i) => i).sort((i, j) => labels[i]! - labels[j]! || i - j);
  const offDiagonal = n < 2 ? Array.from(matrix) : Array.from(matrix).filter((_, p) => Math.floor(p / n) !== p % n);
  const scale = colourScaleFor(offDiagonal);
  const colourStep = (v: number) => Math.round(scale.position(v) * COLOUR_STEPS);
  const blocks = clusterBlocks(order.map((i) => labels[i]!));

  const cell = Math.max(10, Math.min(28, Math.round(720 / Math.max(n, 1))));
  const font = Math.min(12, cell - 2);
  const shown = order.map((i) => shorten(ids[i]!));
  const labelWidth = Math.ceil(Math.max(0, ...shown.map((s) => s.length)) * font * 0.62) + 8;
  const side = n * cell;
  const titleHeight = 32;
  const x0 = labelWidth + 8;
  const y0 = titleHeight + labelWidth + 8;
  const clusterNameWidth = Math.ceil(Math.max(...blocks.map((b) => `cluster-${b.label} (${b.size})`.length), 0) * 7.5) + 16;
  const legendX = x0 + side + clusterNameWidth + 16;
  const legendHeight = Math.max(120, Math.min(side, 320));
  const width = legendX + 90;
  const height = Math.max(y0 + side, y0 + legendHeight + 20) + 16;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  const title = input.title ?? `MBC similarity: ${n} adapters, ${blocks.length} clusters`;
  out.push(`<text x="8" y="22" font-size="16" font-weight="600">${escapeXml(title)}</text>`);

  // Cells: unit squares in a group scaled to the cell size; horizontal runs of one colour merged.
  const paths = new Map<number, string[]>();
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      const step = colourStep(matrix[order[r]! * n + order[c]!]!);
      let run = 1;
      while (c + run < n && colourStep(matrix[order[r]! * n + order[c + run]!]!) === step) run++;
      let parts = paths.get(step);
      if (!parts) paths.set(step, (parts = []));
      parts.push(`M${c} ${r}h${run}v1h-${run}z`);
      c += run;
    }
  }
  out.push(`<g transform="translate(${x0} ${y0}) scale(${cell})" shape-rendering="crispEdges">`);
  for (const [step, parts] of [...paths].sort((a, b) => a[0] - b[0])) {
    out.push(`<path fill="${scale.at(step / COLOUR_STEPS)}" d="${parts.join('')}"/>`);
  }
  out.push('</g>');

  // Values inside the cells when they are large enough to hold them.
  if (cell >= 24) {
    out.push(`<g font-size="${Math.round(cell * 0.36)}" text-anchor="middle" dominant-baseline="central">`);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const v = matrix[order[r]! * n + order[c]!]!;
        const ink = scale.darkAt(v) ? '#ffffff' : '#222222';
        out.push(`<text x="${x0 + (c + 0.5) * cell}" y="${y0 + (r + 0.5) * cell}" fill="${ink}">${v.toFixed(2)}</text>`);
      }
    }
    out.push('</g>');
  }

  // Adapter ids: rows on the left, columns on top (rotated), full id as a tooltip.
  out.push(`<g font-size="${font}" fill="#222222">`);
  order.forEach((i, pos) => {
    const tip = `<title>${escapeXml(ids[i]!)}</title>`;
    const mid = (pos + 0.5) * cell;
    out.push(`<text x="${x0 - 4}" y="${y0 + mid}" text-anchor="end" dominant-baseline="central">${tip}${escapeXml(shown[pos]!)}</text>`);
    out.push(
      `<text transform="translate(${x0 + mid} ${y0 - 4}) rotate(-90)" dominant-baseline="central">${tip}${escapeXml(shown[pos]!)}</text>`,
    );
  });
  out.push('</g>');

  // Cluster boundaries: separators across the matrix and a frame around each diagonal block.
  out.push(`<g fill="none" stroke="#111111">`);
  for (const b of blocks.slice(1)) {
    const p = b.start * cell;
    out.push(`<path stroke-width="1" stroke-opacity="0.5" d="M${x0} ${y0 + p}h${side}M${x0 + p} ${y0}v${side}"/>`);
  }
  for (const b of blocks) {
    out.push(`<rect stroke-width="2" x="${x0 + b.start * cell}" y="${y0 + b.start * cell}" width="${b.size * cell}" height="${b.size * cell}"/>`);
  }
  out.push(`<rect stroke-width="1" x="${x0}" y="${y0}" width="${side}" height="${side}"/>`);
  out.push('</g>');

  // Cluster names to the right of their block.
  out.push(`<g font-size="12" fill="#111111" dominant-baseline="central">`);
  for (const b of blocks) {
    out.push(`<text x="${x0 + side + 8}" y="${y0 + (b.start + b.size / 2) * cell}">cluster-${b.label} (${b.size})</text>`);
  }
  out.push('</g>');

  // Colour legend: the data's range, top to bottom.
  out.push(colourLegendSvg(scale, { x: legendX, y: y0, height: legendHeight, title: 'cosine', id: 'quiver-mbc-scale' }));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

interface Block {
  label: number;
  start: number;
  size: number;
}

function clusterBlocks(sortedLabels: readonly number[]): Block[] {
  const blocks: Block[] = [];
  sortedLabels.forEach((label, pos) => {
    const last = blocks[blocks.length - 1];
    if (last && last.label === label) last.size++;
    else blocks.push({ label, start: pos, size: 1 });
  });
  return blocks;
}

function shorten(id: string): string {
  return id.length <= MAX_LABEL_CHARS ? id : `${id.slice(0, MAX_LABEL_CHARS - 1)}…`;
}
