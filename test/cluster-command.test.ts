import { Command, CommanderError } from 'commander';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerClusterCommand, type ClustersFile } from '../build/commands/cluster.js';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { Rng } from '../shared/random.js';
import { runPython } from './helpers/python.js';

const BASE = 'test/tiny-llama';
const LAYERS = 2;
const MODULES = ['self_attn.q_proj', 'self_attn.v_proj'];
const R = 4;
const D = 32;

/** 3 planted groups × 4 adapters, interleaved: adapter i belongs to group i % 3 (shared random A and B per group, plus noise). */
async function writePlantedLibrary(root: string): Promise<{ dirs: string[]; groups: string[][] }> {
  const rng = new Rng(2024);
  const keys = Array.from({ length: LAYERS }, (_, l) => MODULES.map((m) => `model.layers.${l}.${m}`)).flat();
  const bases = Array.from({ length: 3 }, () => keys.map(() => ({ a: rng.normals(R * D, 0.1), b: rng.normals(D * R, 0.1) })));
  const dirs: string[] = [];
  const groups: string[][] = [[], [], []];
  for (let i = 0; i < 12; i++) {
    const g = i % 3;
    const id = `task-${String(i).padStart(2, '0')}`;
    const noisy = (x: Float32Array) => Float32Array.from(x, (v) => v + 0.03 * rng.normal());
    const modules = keys.map((key, j) => {
      const base = bases[g]![j]!;
      return { key, a: noisy(base.a), b: noisy(base.b), r: R, dIn: D, dOut: D };
    });
    const dir = join(root, id);
    await writePeftAdapter(dir, { baseModel: BASE, r: R, loraAlpha: 16, targetModules: ['q_proj', 'v_proj'], modules });
    dirs.push(dir);
    groups[g]!.push(id);
  }
  return { dirs, groups };
}

let root: string;
let library: { dirs: string[]; groups: string[][] };
let stdout: string;
let stderr: string;

async function cluster(...args: string[]): Promise<void> {
  const program = new Command('quiver').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerClusterCommand(program);
  await program.parseAsync(['cluster', ...args], { from: 'user' });
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'quiver-cluster-'));
  library = await writePlantedLibrary(join(root, 'library'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('quiver cluster', () => {
  it('--k 3 recovers the planted groups and writes clusters.json, similarity.json, similarity.svg', async () => {
    const out = join(root, 'out-k3');
    await cluster(...library.dirs, '--k', '3', '--out', out);
    expect((await readdir(out)).sort()).toEqual(['clusters.json', 'similarity.json', 'similarity.svg']);

    const clusters = await readJson<ClustersFile>(join(out, 'clusters.json'));
    expect(clusters.k).toBe(3);
    expect(clusters.seed).toBe(0);
    expect(clusters.method).toBe('fixed-k');
    expect(clusters.clusters.map((c) => c.id)).toEqual(['cluster-0', 'cluster-1', 'cluster-2']);
    expect(clusters.clusters.map((c) => c.adapters)).toEqual(library.groups);
    expect(clusters.assignments['task-00']).toBe('cluster-0');
    expect(clusters.assignments['task-04']).toBe('cluster-1');
    expect(clusters.assignments['task-11']).toBe('cluster-2');

    const similarity = await readJson<{ ids: string[]; matrix: number[][] }>(join(out, 'similarity.json'));
    const ids = library.dirs.map((d) => d.split('/').pop()!);
    expect(similarity.ids).toEqual(ids);
    expect(similarity.matrix).toHaveLength(12);
    similarity.matrix.forEach((row, i) => {
      expect(row).toHaveLength(12);
      expect(row[i]).toBeCloseTo(1, 12);
      row.forEach((v, j) => expect(v).toBe(similarity.matrix[j]![i]));
    });
    // Same group: nearly parallel; other groups: nearly orthogonal random vectors.
    expect(similarity.matrix[0]![3]).toBeGreaterThan(0.8);
    expect(Math.abs(similarity.matrix[0]![1]!)).toBeLessThan(0.5);

    const svg = await readFile(join(out, 'similarity.svg'), 'utf8');
    const tag = new TextDecoder().decode(runPython('import sys, xml.etree.ElementTree as ET\nprint(ET.fromstring(sys.stdin.read()).tag)', svg));
    expect(tag.trim()).toBe('{http://www.w3.org/2000/svg}svg');
    for (const id of ids) expect(svg).toContain(`>${id}</text>`);

    expect(stdout).toContain('12 adapters -> 3 clusters');
    expect(stdout).toContain('cluster-1 (4): task-01, task-04, task-07, task-10');
    expect(stderr).toContain('[12/12] median |w| task-11');
  });

  it('--auto picks k = 3, prints every k, and a library folder expands to its adapters', async () => {
    const out = join(root, 'out-auto');
    await cluster(join(root, 'library'), '--auto', '--out', out);
    const clusters = await readJson<ClustersFile>(join(out, 'clusters.json'));
    expect(clusters.k).toBe(3);
    expect(clusters.method).toBe('auto-silhouette');
    expect(clusters.silhouette).toBeGreaterThan(0.5);
    expect(clusters.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(clusters.clusters.map((c) => c.adapters)).toEqual(library.groups);
    for (let k = 2; k <= 10; k++) expect(stdout).toMatch(new RegExp(`k=${k}\\s+-?\\d\\.\\d{4}`));
    expect(stdout).toMatch(/k=3\s+\S+\s+<- chosen/);
  });

  it('is reproducible for a seed; --k-range limits the search', async () => {
    await cluster(...library.dirs, '--auto', '--k-range', '2..4', '--seed', '7', '--restarts', '3', '--out', join(root, 'r1'), '-q');
    await cluster(...library.dirs, '--auto', '--k-range', '2..4', '--seed', '7', '--restarts', '3', '--out', join(root, 'r2'), '-q');
    const a = await readFile(join(root, 'r1', 'clusters.json'), 'utf8');
    expect(await readFile(join(root, 'r2', 'clusters.json'), 'utf8')).toBe(a);
    expect((JSON.parse(a) as ClustersFile).scores.map((s) => s.k)).toEqual([2, 3, 4]);
    expect(await readFile(join(root, 'r2', 'similarity.json'), 'utf8')).toBe(await readFile(join(root, 'r1', 'similarity.json'), 'utf8'));
    expect(stderr).toBe('');
  });

  describe('refuses', () => {
    const out = () => join(root, 'out-error');
    it('a folder that does not exist', async () => {
      await expect(cluster(library.dirs[0]!, join(root, 'nope'), '--k', '2', '--out', out())).rejects.toThrow(/nope: no such folder/);
    });
    it('fewer than 2 adapters', async () => {
      await expect(cluster(library.dirs[0]!, '--k', '1', '--out', out())).rejects.toThrow(/at least 2 adapters, got 1/);
    });
    it('k larger than the number of adapters', async () => {
      await expect(cluster(...library.dirs, '--k', '13', '--out', out())).rejects.toThrow(/--k 13 exceeds the number of adapters \(12\)/);
    });
    it('k below 1', async () => {
      const err = await cluster(...library.dirs, '--k', '0', '--out', out()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommanderError);
      expect((err as CommanderError).message).toMatch(/--k <k>.*"0" is not a positive integer/);
    });
    it('both or neither of --k and --auto', async () => {
      await expect(cluster(...library.dirs, '--k', '3', '--auto', '--out', out())).rejects.toThrow(/exactly one of --k <k> .* or --auto/);
      await expect(cluster(...library.dirs, '--out', out())).rejects.toThrow(/exactly one of --k <k>/);
    });
    it('a k range past N − 1, or a malformed one', async () => {
      await expect(cluster(...library.dirs, '--auto', '--k-range', '2..12', '--out', out())).rejects.toThrow(/past 11/);
      const err = await cluster(...library.dirs, '--auto', '--k-range', '5-3', '--out', out()).catch((e: unknown) => e);
      expect((err as CommanderError).message).toMatch(/"5-3" is not a range a\.\.b/);
    });
    it('a missing --out', async () => {
      const err = await cluster(...library.dirs, '--k', '3').catch((e: unknown) => e);
      expect((err as CommanderError).code).toBe('commander.missingMandatoryOptionValue');
    });
    it('adapters of another base model, or of another rank', async () => {
      const rng = new Rng(1);
      const module = (r: number) => ({ key: 'model.layers.0.self_attn.q_proj', a: rng.normals(r * D), b: rng.normals(D * r), r, dIn: D, dOut: D });
      const other = join(root, 'other-base');
      await writePeftAdapter(other, { baseModel: 'someone/else', r: R, loraAlpha: 16, targetModules: ['q_proj'], modules: [module(R)] });
      await expect(cluster(library.dirs[0]!, other, '--k', '2', '--out', out())).rejects.toThrow(/other-base.*base model "someone\/else"/);
      const a = join(root, 'rank-a');
      const b = join(root, 'rank-b');
      await writePeftAdapter(a, { baseModel: BASE, r: R, loraAlpha: 16, targetModules: ['q_proj'], modules: [module(R)] });
      await writePeftAdapter(b, { baseModel: BASE, r: 8, loraAlpha: 16, targetModules: ['q_proj'], modules: [module(8)] });
      await expect(cluster(a, b, '--k', '2', '--out', out())).rejects.toThrow(/rank-b.*same modules and ranks/);
    });
  });
});
