/**
 * Heatmap colours follow the data's range (shared/colour-scale.ts): the MBC similarity heatmap of
 * `quiver cluster` and eval's report paints similarities of 0.55–0.75 from the scale's lightest to
 * its darkest end (a fixed −1..1 scale painted them all one pink), and the routing confusion
 * heatmap (tasks × chosen adapters) shows each task's shares with its family and own adapter framed.
 */
import { describe, expect, it } from 'vitest';
import { routingConfusionSvg } from '../build/eval/routing-confusion-svg.js';
import { colourLegendSvg, colourScaleFor } from '../shared/colour-scale.js';
import { similarityHeatmapSvg } from '../shared/mbc/heatmap-svg.js';
import { runPython } from './helpers/python.js';

const WHITE = '#f7f7f7';
const RED = '#b2182b';
const BLUE = '#2166ac';

/** The fill of every unit cell the SVG paints in its scaled cell group: "row,col" → colour. */
function cellFills(svg: string): Map<string, string> {
  const group = /<g transform="translate\([^)]*\) scale\([^)]*\)" shape-rendering="crispEdges">([\s\S]*?)<\/g>/.exec(svg)![1]!;
  const out = new Map<string, string>();
  for (const [, fill, d] of group.matchAll(/<path fill="(#[0-9a-f]{6})" d="([^"]*)"\/>/g)) {
    for (const [, c, r, run] of d!.matchAll(/M(\d+) (\d+)h(\d+)/g)) for (let k = 0; k < Number(run); k++) out.set(`${r},${Number(c) + k}`, fill!);
  }
  return out;
}

function parsesAsSvg(svg: string): void {
  const out = runPython('import sys, xml.etree.ElementTree as ET\nprint(ET.fromstring(sys.stdin.read()).tag)', svg);
  expect(new TextDecoder().decode(out).trim()).toBe('{http://www.w3.org/2000/svg}svg');
}

describe('colourScaleFor', () => {
  it('is sequential over the range of one-signed data, white at the low end, red at the high end', () => {
    const s = colourScaleFor([0.6, 0.55, Number.NaN, 0.75, 0.7]);
    expect([s.kind, s.lo, s.hi]).toEqual(['sequential', 0.55, 0.75]);
    expect([s.colour(0.55), s.colour(0.75), s.colour(0.2), s.colour(1)]).toEqual([WHITE, RED, WHITE, RED]); // outside: the ends
    expect(s.position(0.65)).toBeCloseTo(0.5, 12);
    expect([s.darkAt(0.74), s.darkAt(0.56)]).toEqual([true, false]);
    const neg = colourScaleFor([-3, -1]);
    expect([neg.colour(-3), neg.colour(-1)]).toEqual([BLUE, WHITE]);
  });

  it('is diverging and symmetric about 0 when the data has both signs', () => {
    const s = colourScaleFor([-0.2, 0.5, 0.1]);
    expect([s.kind, s.lo, s.hi]).toEqual(['diverging', -0.5, 0.5]);
    expect([s.colour(0), s.colour(0.5), s.colour(-0.5)]).toEqual([WHITE, RED, BLUE]);
  });

  it('gives one value a scale from 0 to it, and no value a 0..1 scale', () => {
    const one = colourScaleFor([0.4, 0.4]);
    expect([one.lo, one.hi, one.colour(0.4)]).toEqual([0, 0.4, RED]);
    expect([colourScaleFor([]).lo, colourScaleFor([]).hi]).toEqual([0, 1]);
  });

  it('labels its legend with the data range', () => {
    const legend = colourLegendSvg(colourScaleFor([0.55, 0.75]), { x: 0, y: 0, height: 100, title: 'cosine', id: 'g' });
    expect([...legend.matchAll(/>(0\.\d+)<\/text>/g)].map((m) => m[1])).toEqual(['0.75', '0.70', '0.65', '0.60', '0.55']);
  });
});

describe('the MBC similarity heatmap', () => {
  it('spans the whole scale for similarities of 0.55–0.75 (the diagonal at the top end)', () => {
    const n = 6;
    const ids = Array.from({ length: n }, (_, i) => `a${i}`);
    const labels = [0, 0, 0, 1, 1, 1];
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) matrix[i * n + j] = i === j ? 1 : labels[i] === labels[j] ? 0.7 + 0.025 * ((i + j) % 3) : 0.55 + 0.01 * ((i * j) % 5);
    const svg = similarityHeatmapSvg({ ids, matrix, labels });
    parsesAsSvg(svg);
    const fills = cellFills(svg);
    expect(fills.size).toBe(n * n);
    expect(fills.get('0,0')).toBe(RED); // the diagonal, above the range
    expect(fills.get('0,3')).toBe(WHITE); // a0 × a3 = 0.55, the smallest pair
    expect(fills.get('0,1')).not.toBe(fills.get('0,3'));
    expect(new Set(fills.values()).size).toBeGreaterThanOrEqual(6);
    expect(svg).toContain('>0.55</text>');
    expect(svg).toContain('>0.75</text>');
  });
});

describe('the routing confusion heatmap', () => {
  const tasks = [
    { name: 'up-a', split: 'in-distribution' as const, family: 'up', targetFamily: 'up', multipleChoice: false, examples: 10 },
    { name: 'rev-a', split: 'in-distribution' as const, family: 'rev', targetFamily: 'rev', multipleChoice: false, examples: 10 },
    { name: 'up-b', split: 'in-distribution' as const, family: 'up', targetFamily: 'up', multipleChoice: false, examples: 10 },
    { name: 'rev-new', split: 'held-out' as const, family: 'rev', targetFamily: 'rev', multipleChoice: false, examples: 4 },
  ];
  const routing = (task: string, examples: number, top1: Record<string, number>) => ({ task, examples, ownFirst: null, familyFirst: 0, perLayer: [], top1 });
  const adapters = [
    { id: 'rev-a', family: 'rev' },
    { id: 'up-a', family: 'up' },
    { id: 'up-b', family: 'up' },
  ];

  it('paints each task\'s share per adapter (rows and columns in family order), frames family and own adapter', () => {
    const report = {
      baseModel: 'the-base',
      tasks,
      routing: [routing('up-a', 10, { 'up-a': 10 }), routing('rev-a', 10, { 'up-b': 5, 'rev-a': 5 }), routing('up-b', 10, { 'up-a': 8, 'up-b': 2 }), routing('rev-new', 4, { 'rev-a': 1, 'up-a': 3 })],
    };
    const svg = routingConfusionSvg(report, adapters);
    parsesAsSvg(svg);
    const fills = cellFills(svg);
    // Columns: rev-a, up-a, up-b; rows: rev-a, up-a, up-b (in-distribution, family order), then rev-new.
    expect(fills.size).toBe(4 * 3);
    const scale = colourScaleFor([1, 0.5, 0.8, 0.2, 0.25, 0.75, 0]);
    expect(fills.get('1,1')).toBe(RED); // up-a → up-a: 100%, the top of the range
    expect(fills.get('0,0')).toBe(scale.colour(0.5));
    expect(fills.get('0,1')).toBe(WHITE);
    expect(fills.get('3,1')).toBe(scale.colour(0.75));
    expect(svg.indexOf('>rev-a</text>')).toBeLessThan(svg.indexOf('>up-a</text>'));
    expect((svg.match(/stroke-width="2\.5"/g) ?? []).length).toBe(3); // own adapter of each in-distribution task
    expect((svg.match(/<rect stroke-width="1" /g) ?? []).length).toBe(4 + 1); // each row's family, and the border
    expect(svg).not.toContain('the-base');
    for (const share of ['100', '50', '80', '75', '25']) expect(svg).toContain(`>${share}</text>`);
  });

  it('adds the base model\'s column when a request fell under the threshold, and refuses an adapter it does not know', () => {
    const report = { baseModel: 'the-base', tasks: tasks.slice(0, 1), routing: [routing('up-a', 10, { 'up-a': 6, 'the-base': 4 })] };
    const svg = routingConfusionSvg(report, adapters);
    expect(svg).toContain('base (the-base)');
    expect(cellFills(svg).size).toBe(4);
    expect(() => routingConfusionSvg({ ...report, routing: [routing('up-a', 10, { nope: 10 })] }, adapters)).toThrow(/routed to "nope"/);
  });
});
