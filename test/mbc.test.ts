import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { clusterKMeans, renumberByFirstAppearance } from '../shared/mbc/cluster-kmeans.js';
import { cosineSimilarityMatrix } from '../shared/mbc/cosine-similarity.js';
import { accumulateGram } from '../shared/mbc/gram.js';
import { escapeXml, similarityHeatmapSvg } from '../shared/mbc/heatmap-svg.js';
import { kmeansPlusPlus } from '../shared/mbc/kmeans-plus-plus.js';
import { mbcFromGram } from '../shared/mbc/mbc.js';
import { medianMagnitude, medianMagnitudeInPlace } from '../shared/mbc/median-threshold.js';
import { silhouetteSamples, silhouetteScore } from '../shared/mbc/silhouette.js';
import { truncatedSvdFromGram } from '../shared/mbc/truncated-svd.js';
import { Rng } from '../shared/random.js';
import { runPython } from './helpers/python.js';

function sortedMedianMagnitude(x: ArrayLike<number>): number {
  const m = Array.from(x, Math.abs).sort((a, b) => a - b);
  const h = m.length >> 1;
  return m.length % 2 ? m[h]! : (m[h - 1]! + m[h]!) / 2;
}

/** The sparsified vector of docs/method.md ("MBC"): entries with |x| <= median(|x|) zeroed. */
function sparsify(x: Float32Array): Float64Array {
  const t = sortedMedianMagnitude(x);
  return Float64Array.from(x, (v) => (Math.abs(v) > t ? v : 0));
}

function gramOfBlocks(rows: Float32Array[], blockWidths: number[]): Float64Array {
  const n = rows.length;
  const thresholds = rows.map((r) => medianMagnitude(r));
  const gram = new Float64Array(n * n);
  let offset = 0;
  for (const w of blockWidths) {
    const block = new Float32Array(n * w);
    rows.forEach((r, i) => block.set(r.subarray(offset, offset + w), i * w));
    accumulateGram(gram, n, block, w, thresholds, 64);
    offset += w;
  }
  return gram;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Planted groups: each group shares a random base vector; each adapter adds small noise. Group of adapter i is i % groups (interleaved). */
function plantedAdapters(groups: number, perGroup: number, length: number, noise: number, seed: number) {
  const rng = new Rng(seed);
  const bases = Array.from({ length: groups }, () => rng.normals(length));
  const rows: Float32Array[] = [];
  const truth: number[] = [];
  for (let i = 0; i < groups * perGroup; i++) {
    const g = i % groups;
    const base = bases[g]!;
    rows.push(Float32Array.from(base, (v) => v + noise * rng.normal()));
    truth.push(g);
  }
  return { rows, truth };
}

describe('medianMagnitude', () => {
  const rng = new Rng(7);
  const cases: Array<[string, Float32Array]> = [
    ['one value', Float32Array.of(-3)],
    ['two values', Float32Array.of(1, -5)],
    ['odd count', rng.normals(1001)],
    ['even count', rng.normals(10_000)],
    ['half zeros (B at init)', Float32Array.from({ length: 4000 }, (_, i) => (i % 2 ? 0 : rng.normal()))],
    ['heavy ties', Float32Array.from({ length: 3001 }, () => rng.int(5) - 2)],
    ['sorted', Float32Array.from({ length: 2000 }, (_, i) => i)],
    ['all equal', new Float32Array(777).fill(0.5)],
  ];
  for (const [name, x] of cases) {
    it(`equals the median of the sorted magnitudes: ${name}`, () => {
      const expected = sortedMedianMagnitude(x);
      expect(medianMagnitude(x)).toBe(expected);
      const copy = Float32Array.from(x);
      expect(medianMagnitudeInPlace(copy)).toBe(expected);
      expect(Array.from(copy).sort((a, b) => a - b)).toEqual(Array.from(x, Math.abs).sort((a, b) => a - b));
    });
  }
  it('refuses NaN and empty input', () => {
    expect(() => medianMagnitude(Float32Array.of(1, NaN, 2))).toThrow(/NaN/);
    expect(() => medianMagnitude(new Float32Array(0))).toThrow(/empty/);
  });
});

describe('accumulateGram', () => {
  it.each([1, 2, 3, 5, 8, 9])('equals X Xᵀ of the sparsified rows, accumulated over uneven blocks and tiles (N = %i)', (n) => {
    const rng = new Rng(3 + n);
    const rows = Array.from({ length: n }, (_, i) => rng.normals(1300, 0.1 * (i + 1)));
    const gram = gramOfBlocks(rows, [100, 7, 1000, 193]);
    const sparse = rows.map(sparsify);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < 1300; c++) dot += sparse[i]![c]! * sparse[j]![c]!;
        expect(gram[i * n + j]).toBeCloseTo(dot, 9);
      }
      expect(sparse[i]!.filter((v) => v !== 0).length).toBe(650);
    }
  });
  it('zeroes entries exactly at the threshold', () => {
    const gram = new Float64Array(1);
    accumulateGram(gram, 1, Float32Array.of(1, -2, 3, -4), 4, [2]);
    expect(gram[0]).toBe(9 + 16);
  });
});

describe('truncatedSvdFromGram', () => {
  it('keeps the cosines of the full sparsified vectors when N <= dims', () => {
    const rng = new Rng(11);
    const n = 8;
    const rows = Array.from({ length: n }, () => rng.normals(500));
    const gram = gramOfBlocks(rows, [500]);
    const svd = truncatedSvdFromGram(gram, n, 64);
    expect(svd.k).toBe(n);
    const sparse = rows.map(sparsify);
    const direct = cosineSimilarityMatrix(Float64Array.from(sparse.flatMap((r) => Array.from(r))), n, 500);
    expect(maxAbsDiff(cosineSimilarityMatrix(svd.rows, n, svd.k), direct)).toBeLessThan(1e-9);
  });

  it('matches ml-matrix SVD of the sparsified matrix when truncating (N > dims)', () => {
    const rng = new Rng(12);
    const n = 20;
    const dims = 5;
    const length = 300;
    const rows = Array.from({ length: n }, (_, i) => rng.normals(length, 1 + (i % 4)));
    const svd = truncatedSvdFromGram(gramOfBlocks(rows, [120, 180]), n, dims);
    const x = new Matrix(rows.map((r) => Array.from(sparsify(r))));
    const ref = new SingularValueDecomposition(x, { autoTranspose: true });
    const reduced = new Float64Array(n * dims);
    for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) reduced[i * dims + j] = ref.leftSingularVectors.get(i, j) * ref.diagonal[j]!;
    for (let j = 0; j < dims; j++) expect(svd.singularValues[j]).toBeCloseTo(ref.diagonal[j]!, 8);
    expect(maxAbsDiff(cosineSimilarityMatrix(svd.rows, n, dims), cosineSimilarityMatrix(reduced, n, dims))).toBeLessThan(1e-8);
  });

  it('matches numpy end to end: median sparsify, SVD to k, normalise, cosine', () => {
    const rng = new Rng(13);
    const n = 15;
    const dims = 6;
    const length = 400;
    const rows = Array.from({ length: n }, (_, i) => rng.normals(length, 0.5 + (i % 3)));
    const svd = truncatedSvdFromGram(gramOfBlocks(rows, [400]), n, dims);
    const ours = cosineSimilarityMatrix(svd.rows, n, dims);
    const script = [
      'import sys, numpy as np',
      `x = np.frombuffer(sys.stdin.buffer.read(), dtype="<f4").reshape(${n}, ${length}).astype(np.float64)`,
      'x = np.where(np.abs(x) > np.median(np.abs(x), axis=1, keepdims=True), x, 0.0)',
      'u, s, vt = np.linalg.svd(x, full_matrices=False)',
      `z = u[:, :${dims}] * s[:${dims}]`,
      'z = z / np.linalg.norm(z, axis=1, keepdims=True)',
      'sys.stdout.buffer.write((z @ z.T).astype("<f8").tobytes())',
    ].join('\n');
    const input = new Uint8Array(n * length * 4);
    const view = new DataView(input.buffer);
    rows.forEach((r, i) => r.forEach((v, c) => view.setFloat32((i * length + c) * 4, v, true)));
    const out = runPython(script, input);
    const reference = new Float64Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
    expect(maxAbsDiff(ours, reference)).toBeLessThan(1e-8);
  });
});

describe('k-means', () => {
  const rng = new Rng(5);
  const points = Array.from({ length: 40 }, () => Array.from(rng.normals(6)));

  it('k-means++ is reproducible with a seed and picks distinct points', () => {
    const a = kmeansPlusPlus(points, 6, new Rng(42));
    expect(kmeansPlusPlus(points, 6, new Rng(42))).toEqual(a);
    expect(new Set(a).size).toBe(6);
    expect(kmeansPlusPlus(points, 6, new Rng(43))).not.toEqual(a);
    const duplicates = [[0, 0], [0, 0], [0, 0], [1, 1]];
    expect(new Set(kmeansPlusPlus(duplicates, 4, new Rng(1))).size).toBe(4);
  });

  it('clusterKMeans is reproducible, numbers clusters by first member, and restarts never raise inertia', () => {
    const one = clusterKMeans(points, 4, { seed: 9, restarts: 1 });
    const ten = clusterKMeans(points, 4, { seed: 9, restarts: 10 });
    expect(clusterKMeans(points, 4, { seed: 9, restarts: 10 })).toEqual(ten);
    expect(ten.inertia).toBeLessThanOrEqual(one.inertia + 1e-12);
    expect(ten.labels[0]).toBe(0);
    expect(renumberByFirstAppearance(ten.labels)).toEqual(ten.labels);
    expect(renumberByFirstAppearance([2, 2, 0, 1, 0])).toEqual([0, 0, 1, 2, 1]);
  });
});

describe('silhouette', () => {
  it('matches a hand computation', () => {
    // Points 0, 1 | 4, 5. s(0) = (4.5 − 1)/4.5, s(1) = (3.5 − 1)/3.5, symmetric for the other pair.
    const s = silhouetteSamples([[0], [1], [4], [5]], [0, 0, 1, 1]);
    expect(Array.from(s)).toEqual([3.5 / 4.5, 2.5 / 3.5, 2.5 / 3.5, 3.5 / 4.5].map((v) => expect.closeTo(v, 12)));
    expect(silhouetteScore([[0], [1], [4], [5]], [0, 0, 1, 1])).toBeCloseTo((3.5 / 4.5 + 2.5 / 3.5) / 2, 12);
    // A singleton cluster scores 0; Euclidean in 2-D: (0,0),(3,4) | (0,10).
    const t = silhouetteSamples([[0, 0], [3, 4], [0, 10]], [1, 1, 7]);
    const d02 = 10;
    const d12 = Math.hypot(3, 6);
    expect(t[0]).toBeCloseTo((d02 - 5) / d02, 12);
    expect(t[1]).toBeCloseTo((d12 - 5) / d12, 12);
    expect(t[2]).toBe(0);
  });
  it('refuses fewer than 2 or more than n − 1 clusters', () => {
    expect(() => silhouetteScore([[0], [1]], [0, 0])).toThrow(/2\.\.1/);
    expect(() => silhouetteScore([[0], [1], [2]], [0, 1, 2])).toThrow();
  });
});

describe('MBC on planted groups', () => {
  const { rows, truth } = plantedAdapters(3, 4, 2048, 0.35, 21);
  const n = rows.length;
  const gram = gramOfBlocks(rows, [512, 512, 1024]);

  it('recovers the 3 groups exactly with k = 3', () => {
    const result = mbcFromGram(gram, n, { k: 3, dims: 64, seed: 0, restarts: 10 });
    expect(result.k).toBe(3);
    expect(result.labels).toEqual(renumberByFirstAppearance(truth));
    expect(result.reducedDims).toBe(12);
    expect(result.silhouette).toBeGreaterThan(0.5);
  });

  it('--auto picks k = 3 by silhouette', () => {
    const result = mbcFromGram(gram, n, { k: 'auto', dims: 64, seed: 0, restarts: 10 });
    expect(result.method).toBe('auto-silhouette');
    expect(result.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.k).toBe(3);
    expect(result.labels).toEqual(renumberByFirstAppearance(truth));
  });

  it('is reproducible for a seed and also works with a truncation below N', () => {
    const a = mbcFromGram(gram, n, { k: 3, dims: 4, seed: 5, restarts: 3 });
    expect(mbcFromGram(gram, n, { k: 3, dims: 4, seed: 5, restarts: 3 })).toEqual(a);
    expect(a.labels).toEqual(renumberByFirstAppearance(truth));
  });

  it('refuses a k outside 1..N and a k range outside 2..N−1', () => {
    expect(() => mbcFromGram(gram, n, { k: 13, dims: 64, seed: 0, restarts: 1 })).toThrow(/1\.\.12/);
    expect(() => mbcFromGram(gram, n, { k: 0, dims: 64, seed: 0, restarts: 1 })).toThrow(/1\.\.12/);
    expect(() => mbcFromGram(gram, n, { k: 'auto', kRange: [2, 12], dims: 64, seed: 0, restarts: 1 })).toThrow(/2 <= a <= b <= 11/);
  });
});

describe('similarityHeatmapSvg', () => {
  function checkXml(svg: string): void {
    const out = runPython('import sys, xml.etree.ElementTree as ET\nroot = ET.fromstring(sys.stdin.read())\nprint(root.tag)', svg);
    expect(new TextDecoder().decode(out).trim()).toBe('{http://www.w3.org/2000/svg}svg');
  }

  it('orders by cluster, labels every id (escaped) and parses as XML', () => {
    const ids = ['a<b>', 'task & co', 'quote"d', "it's", 'plain', 'x'.repeat(60), 'g', 'h', 'i', 'j'];
    const labels = [1, 0, 2, 1, 0, 2, 1, 0, 2, 1];
    const n = ids.length;
    const matrix = new Float64Array(n * n).map((_, p) => (labels[Math.floor(p / n)] === labels[p % n] ? 0.9 : -0.2));
    const svg = similarityHeatmapSvg({ ids, matrix, labels });
    checkXml(svg);
    for (const id of ids) expect(svg).toContain(escapeXml(id));
    expect(svg).toContain('cluster-0 (3)');
    expect(svg).toContain('cluster-1 (4)');
    // Row labels appear in cluster order: cluster 0 = ids 1, 4, 7 first.
    const rowLabel = (id: string) => svg.indexOf(`${escapeXml(id)}</text>`);
    expect(rowLabel('task & co')).toBeLessThan(rowLabel('a<b>'));
    expect(rowLabel('h')).toBeLessThan(rowLabel('a<b>'));
    expect(svg).toContain('0.90'); // values written in cells at this size
  });

  it('stays compact and parseable at 300 adapters', () => {
    const n = 300;
    const rng = new Rng(1);
    const ids = Array.from({ length: n }, (_, i) => `adapter-${String(i).padStart(3, '0')}`);
    const labels = ids.map((_, i) => i % 10);
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) matrix[i * n + j] = matrix[j * n + i] = i === j ? 1 : labels[i] === labels[j] ? 0.8 + 0.1 * rng.next() : rng.next() * 0.4 - 0.2;
    const svg = similarityHeatmapSvg({ ids, matrix, labels });
    checkXml(svg);
    for (const id of ids) expect(svg).toContain(`>${id}</text>`);
    expect(svg.length).toBeLessThan(3_000_000);
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThan(n * 10);
  });
});
