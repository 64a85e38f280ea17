/**
 * The colour scale of a heatmap, from the data it paints: values of both signs get a diverging
 * blue · white · red scale symmetric about 0 (±the largest magnitude); values of one sign a
 * sequential one from their smallest to their largest (white to red, or blue to white for negative
 * values). So the cells of a matrix whose entries all lie in 0.55..0.75 span the whole scale
 * instead of one shade of a fixed −1..1 scale. Values outside the range (a diagonal left out of it)
 * are painted at its ends. Pure: SVG strings, runs anywhere.
 */

export interface ColourScale {
  kind: 'sequential' | 'diverging';
  /** The values at the scale's two ends. */
  lo: number;
  hi: number;
  /** Where v lies on the scale, 0 (lo) to 1 (hi), clamped; a non-finite value lies in the middle. */
  position(v: number): number;
  /** The colour at a position in [0, 1]. */
  at(position: number): string;
  /** The colour of v. */
  colour(v: number): string;
  /** Whether text drawn on v's colour should be white (a dark cell). */
  darkAt(v: number): boolean;
}

// ColorBrewer RdBu end points around a neutral white.
const BLUE = [33, 102, 172] as const;
const WHITE = [247, 247, 247] as const;
const RED = [178, 24, 43] as const;

function mix(from: readonly number[], to: readonly number[], t: number): string {
  return `#${from.map((c, i) => Math.round(c + (to[i]! - c) * t).toString(16).padStart(2, '0')).join('')}`;
}

export function colourScaleFor(values: Iterable<number>): ColourScale {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) [min, max] = [0, 1]; // no finite value
  const diverging = min < 0 && max > 0;
  let [lo, hi] = diverging ? [-Math.max(-min, max), Math.max(-min, max)] : [min, max];
  if (lo === hi) [lo, hi] = lo >= 0 ? [Math.min(0, lo), Math.max(lo, 1e-12)] : [lo, 0]; // one value: a scale from 0 to it
  const negative = !diverging && hi <= 0;
  const at = (p: number): string => {
    const t = Math.max(0, Math.min(1, p));
    if (diverging) return t < 0.5 ? mix(WHITE, BLUE, 1 - 2 * t) : mix(WHITE, RED, 2 * t - 1);
    return negative ? mix(BLUE, WHITE, t) : mix(WHITE, RED, t);
  };
  const position = (v: number): number => (Number.isFinite(v) ? Math.max(0, Math.min(1, (v - lo) / (hi - lo))) : 0.5);
  return {
    kind: diverging ? 'diverging' : 'sequential',
    lo,
    hi,
    position,
    at,
    colour: (v) => at(position(v)),
    darkAt: (v) => {
      const p = position(v);
      return diverging ? Math.abs(p - 0.5) > 0.3 : negative ? p < 0.4 : p > 0.6;
    },
  };
}

/**
 * A vertical legend for `scale`: a gradient bar from hi (top) to lo (bottom) with five ticks,
 * `title` above it. `id` names the gradient (unique within the page: several heatmaps can share one).
 */
export function colourLegendSvg(scale: ColourScale, opts: { x: number; y: number; height: number; title: string; id: string; format?: (v: number) => string }): string {
  const { x, y, height } = opts;
  const span = Math.abs(scale.hi - scale.lo);
  const digits = span >= 10 ? 0 : span >= 1 ? 1 : Math.min(6, Math.ceil(-Math.log10(span)) + 1);
  const format = opts.format ?? ((v: number) => v.toFixed(digits));
  const out: string[] = [];
  out.push(`<defs><linearGradient id="${opts.id}" x1="0" y1="0" x2="0" y2="1">`);
  for (let s = 0; s <= 10; s++) out.push(`<stop offset="${s / 10}" stop-color="${scale.at(1 - s / 10)}"/>`);
  out.push('</linearGradient></defs>');
  out.push(`<text x="${x}" y="${y - 10}" font-size="12">${opts.title}</text>`);
  out.push(`<rect x="${x}" y="${y}" width="16" height="${height}" fill="url(#${opts.id})" stroke="#111111"/>`);
  out.push(`<g font-size="11" dominant-baseline="central">`);
  for (let i = 0; i <= 4; i++) {
    const v = scale.hi - (i / 4) * (scale.hi - scale.lo);
    const ty = y + (i / 4) * height;
    out.push(`<path stroke="#111111" d="M${x + 16} ${ty}h4"/><text x="${x + 24}" y="${ty}">${format(v)}</text>`);
  }
  out.push('</g>');
  return out.join('\n');
}
