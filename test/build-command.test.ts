/**
 * quiver build on a micro configuration: the whole pipeline from one config file whose paths are
 * relative to the file (the build runs from elsewhere), built twice into two different folders
 * with the same layout; every file compared byte for byte, build.json's checksums against the
 * files, a rerun that finds every stage done, and a config with an unknown key refused.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../build/io/file-hash.js';
import { DEFAULT_ROUTING } from '../shared/manifest/schema.js';
import { BuildRecord, BUILD_RECORD_FILE } from '../build/pipeline/build-record.js';
import { listFiles, relativeKey } from '../build/pipeline/tree-checksums.js';
import { MICRO_PRETRAIN, MICRO_TRAIN, writeMicroData } from './helpers/micro-library.js';
import { runCli } from './helpers/run-cli.js';

const roots: string[] = [];
const config = { tasks: 'data/tasks', heldout: 'data/heldout', corpus: 'corpus.txt', out: 'lib', pretrain: MICRO_PRETRAIN, train: MICRO_TRAIN, eval: { limit: 4 } };

async function microProject(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'quiver-build-'));
  roots.push(root);
  const project = join(root, 'project');
  await mkdir(project);
  await writeMicroData(project);
  await writeFile(join(project, 'quiver.config.json'), JSON.stringify(config, null, 2));
  return project;
}

const build = (project: string, ...more: string[]) => runCli(['build', '--config', join(project, 'quiver.config.json'), '-j', '1', '-q', '--backend', 'wasm', ...more]);

let first = '';
let second = '';

beforeAll(async () => {
  first = await microProject();
  second = await microProject();
  for (const p of [first, second]) {
    const r = await build(p);
    expect(r.code, r.stderr).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

describe('quiver build', () => {
  it('builds base, adapters, clusters, compiled folder and evaluation from the config, paths relative to the file', async () => {
    const files = (await listFiles(join(first, 'lib'))).map((f) => relativeKey(join(first, 'lib'), f));
    for (const want of ['base/model.safetensors', 'base/tokenizer_config.json', 'library.json', 'private/first-letter/adapter_model.safetensors', 'mbc/cluster-0/adapter_model.safetensors', 'clusters/clusters.json', 'compiled/manifest.safetensors', 'compiled/embedder.onnx', 'eval/eval.json', 'eval/report.html', BUILD_RECORD_FILE]) {
      expect(files).toContain(want);
    }
    const evalJson = JSON.parse(await readFile(join(first, 'lib', 'eval', 'eval.json'), 'utf8')) as { heldOut?: unknown };
    expect(JSON.stringify(evalJson)).toContain('first-letter-qa'); // the held-out tasks of the config's `heldout`
  });

  it('gives the same bytes built twice into two folders: every file, build.json included', async () => {
    const a = (await listFiles(join(first, 'lib'))).map((f) => relativeKey(join(first, 'lib'), f));
    const b = (await listFiles(join(second, 'lib'))).map((f) => relativeKey(join(second, 'lib'), f));
    expect(b).toEqual(a);
    const differ: string[] = [];
    for (const f of a) {
      const [x, y] = await Promise.all([readFile(join(first, 'lib', f)), readFile(join(second, 'lib', f))]);
      if (!x.equals(y)) differ.push(f);
    }
    // No wall-clock figure and no path of the machine is written into any artifact.
    expect(differ).toEqual([]);
  });

  it("records in build.json the sha256 of every file it made, and nothing else", async () => {
    const lib = join(first, 'lib');
    const record = BuildRecord.parse(JSON.parse(await readFile(join(lib, BUILD_RECORD_FILE), 'utf8')));
    expect(Object.keys(record.stages)).toEqual(['pretrain', 'train', 'compile', 'eval']);
    const recorded = Object.assign({}, ...Object.values(record.stages).map((s) => s.files)) as Record<string, string>;
    const onDisk = (await listFiles(lib)).map((f) => relativeKey(lib, f)).filter((f) => f !== BUILD_RECORD_FILE);
    expect(Object.keys(recorded).sort()).toEqual(onDisk);
    for (const [f, sum] of Object.entries(recorded)) expect(await sha256File(join(lib, f)), f).toBe(sum);
    expect(record.config).toMatchObject({ out: 'lib', tasks: 'data/tasks', pretrain: { steps: MICRO_PRETRAIN.steps }, train: { k: 2, mbcEpochs: 1 }, compile: { pool: 'private', topK: DEFAULT_ROUTING.topK } });
  });

  it('finds every stage done on a rerun, and redoes a stage whose output was changed', async () => {
    const again = await build(first);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^pretrain\s+up to date/m);
    expect(again.stdout).toMatch(/^train\s+up to date/m);
    expect(again.stdout).toMatch(/^compile\s+up to date/m);
    expect(again.stdout).toMatch(/^eval\s+up to date/m);
    const report = join(first, 'lib', 'eval', 'eval.md');
    const before = await readFile(report);
    await writeFile(report, 'edited by hand\n');
    const redo = await build(first, '--stages', 'eval');
    expect(redo.code, redo.stderr).toBe(0);
    expect(redo.stdout).toMatch(/^eval\s+ran/m);
    expect(await readFile(report)).toEqual(before);
  });

  it('refuses a config with an unknown key, naming it, and a shard run writes no build.json', async () => {
    const bad = join(roots[0]!, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...config, train: { ...MICRO_TRAIN, epoch: 3 } }));
    const r = await runCli(['build', '--config', bad, '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: train: Unrecognized key: "epoch"/);
    const shard = await build(second, '--shard', '1/2', '--stages', 'train');
    expect(shard.code, shard.stderr).toBe(0);
    expect(shard.stdout).not.toMatch(/wrote .*build\.json/);
  });
});
