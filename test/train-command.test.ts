/**
 * A micro library end to end: pretrain a tiny byte-level base, train private adapters for three
 * small tasks, cluster, train MBC adapters, and check every artifact loads back — with the real
 * trainer, only smaller.
 */
import { readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPeftAdapter } from '../build/io/peft-adapter.js';
import { loadCheckpoint } from '../build/model/checkpoint.js';
import { AdapterMeta, ADAPTER_META_FILE } from '../build/train/adapter-job.js';
import { LibraryIndex } from '../build/io/library-index.js';
import { childPids, HAS_PROC, isRunning, waitFor } from './helpers/process-state.js';
import { runCli } from './helpers/run-cli.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

const WORDS = ['apple', 'river', 'stone', 'cloud', 'tiger', 'maple', 'lemon', 'piano', 'robot', 'sugar', 'ocean', 'pearl', 'queen', 'zebra', 'mango', 'house', 'light', 'green', 'brave', 'chair'];

function tasks(): Record<string, Array<{ input: string; output: string }>> {
  const ex = (f: (w: string) => { input: string; output: string }) => WORDS.map(f);
  return {
    'first-letter': ex((w) => ({ input: `First of ${w}:`, output: w[0]! })),
    'last-letter': ex((w) => ({ input: `Last of ${w}:`, output: w.at(-1)! })),
    'upper-first': ex((w) => ({ input: `Up ${w}:`, output: w[0]!.toUpperCase() })),
  };
}

async function writeTasks(dir: string) {
  for (const [name, rows] of Object.entries(tasks())) {
    await mkdir(join(dir, name), { recursive: true });
    const lines = rows.map((r) => JSON.stringify(r));
    await writeFile(join(dir, name, 'train.jsonl'), lines.slice(0, 14).join('\n') + '\n');
    await writeFile(join(dir, name, 'valid.jsonl'), lines.slice(14, 17).join('\n') + '\n');
    await writeFile(join(dir, name, 'test.jsonl'), lines.slice(17).join('\n') + '\n');
  }
}

const MICRO_BASE = ['--hidden', '32', '--layers', '2', '--heads', '2', '--intermediate', '64', '--context', '32', '--steps', '30', '--batch-size', '8', '--lr', '0.003', '-q'];
const MICRO_TRAIN = ['--epochs', '6', '--batch-size', '7', '--lr', '0.01', '--eval-every', '4', '--patience', '5', '--k', '2', '-j', '1', '-q', '--backend', 'wasm'];

describe('quiver pretrain + quiver train (micro library)', () => {
  it('builds a library whose adapters load back, lower the test loss, and resume', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await writeTasks(tasksDir);
    await writeFile(join(root, 'corpus.txt'), 'The quick brown fox jumps over the lazy dog.\nA river runs by the stone house.\n');
    const pre = await runCli(['pretrain', '--out', join(root, 'base'), '--tasks', tasksDir, '--corpus', join(root, 'corpus.txt'), '--backend', 'wasm', ...MICRO_BASE]);
    expect(pre.stderr + pre.stdout).toMatch(/wrote/);
    expect(pre.code).toBe(0);
    const base = await loadCheckpoint(join(root, 'base'));
    expect(base.config.hiddenSize).toBe(32);
    base.model.dispose();

    const out = join(root, 'lib');
    const res = await runCli(['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, ...MICRO_TRAIN]);
    expect(res.stderr).not.toMatch(/unexpected error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/wrote .*library.json: 3 private and 2 MBC adapters/);

    const index = LibraryIndex.parse(JSON.parse(await readFile(join(out, 'library.json'), 'utf8')));
    expect(index.tasks.map((t) => t.name)).toEqual(['first-letter', 'last-letter', 'upper-first']);
    expect(index.clusters).toHaveLength(2);
    expect(index.clusters.flatMap((c) => c.tasks).sort()).toEqual(['first-letter', 'last-letter', 'upper-first']);
    for (const t of index.tasks) {
      expect(t.metrics.testLoss).toBeLessThan(t.metrics.baseTestLoss); // training lowers the loss
      expect(t.metrics.backend).toBe('wasm');
      const h = await openPeftAdapter(join(out, t.adapter));
      expect(h.baseModel).toBe('quiver/byte-llama-d32-l2');
      expect(h.config).toMatchObject({ r: 4, lora_alpha: 16, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
      expect(h.modules.map((m) => [m.key, m.r, m.dIn, m.dOut])).toEqual(
        [0, 1].flatMap((l) => ['o_proj', 'q_proj', 'k_proj', 'v_proj'].sort().map((n) => [`model.layers.${l}.self_attn.${n}`, 4, 32, 32])),
      );
      await h.close();
    }
    for (const c of index.clusters) {
      const meta = AdapterMeta.parse(JSON.parse(await readFile(join(out, c.adapter, ADAPTER_META_FILE), 'utf8')));
      expect(meta.kind).toBe('mbc');
      expect(Object.keys(meta.perTaskTest).sort()).toEqual([...c.tasks].sort());
    }
    expect((await readdir(join(out, 'clusters'))).sort()).toEqual(['clusters.json', 'similarity.json', 'similarity.svg']);

    // Resume: a rerun trains nothing; after removing one adapter only that one is retrained.
    const again = await runCli(['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, ...MICRO_TRAIN.filter((x) => x !== '-q')]);
    expect(again.stdout).toMatch(/0 private and 0 MBC adapters trained/);
    expect(again.stderr).toMatch(/private: 3 of 3 adapters already trained/);
    expect(again.stdout).toMatch(/\| first-letter \| first-letter \| \d+\.\d{3} \| \d+\.\d{3} \| cluster-\d \|/);
    expect(again.stdout).toMatch(/3 of 3 private adapters beat the base model/);
    await rm(join(out, 'private', 'last-letter'), { recursive: true });
    const partial = await runCli(['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, ...MICRO_TRAIN]);
    expect(partial.stdout).toMatch(/1 private and 0 MBC adapters trained/);
  }, 240_000);
});

describe('quiver train: shards, worker processes, bad input', () => {
  async function microBase(root: string, tasksDir: string) {
    await writeTasks(tasksDir);
    await writeFile(join(root, 'corpus.txt'), 'Some text.\n');
    const pre = await runCli(['pretrain', '--out', join(root, 'base'), '--tasks', tasksDir, '--corpus', join(root, 'corpus.txt'), '--backend', 'wasm', ...MICRO_BASE, '--steps', '2']);
    expect(pre.code).toBe(0);
  }

  it('shards split the private adapters deterministically; a run without --shard finishes the library', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await microBase(root, tasksDir);
    const out = join(root, 'lib');
    const args = ['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, ...MICRO_TRAIN.filter((x) => x !== '-q'), '--epochs', '1'];
    const s1 = await runCli([...args, '--shard', '1/2']);
    expect(s1.code).toBe(0);
    expect(s1.stdout).toMatch(/partial library .*: 2 private and 0 MBC/); // tasks 1 and 3 of 3
    expect(s1.stderr).toMatch(/2 of 3 private adapters exist; run again/);
    expect((await readdir(join(out, 'private'))).sort()).toEqual(['first-letter', 'upper-first']);
    const s2 = await runCli([...args, '--shard', '2/2']);
    expect(s2.stdout).toMatch(/1 private and 1 MBC/); // every private adapter now exists: cluster, then MBC shard 2 of 2
    const s3 = await runCli(args);
    expect(s3.stdout).toMatch(/wrote .*library.json: 0 private and 1 MBC/);
    expect((await runCli([...args, '--shard', '3/2'])).stderr).toMatch(/"3\/2" is not a shard i\/N/);
    // Another configuration would retrain the library in place: refused unless --force.
    const other = await runCli([...args, '--lr', '0.02']);
    expect([other.code, other.stderr]).toEqual([2, expect.stringMatching(/lib: holds a library trained with another configuration \(lr 0.01 → 0.02\).*--force/)]);
    const forced = await runCli([...args, '--lr', '0.02', '--force']);
    expect(forced.stdout).toMatch(/wrote .*library.json: 3 private and 2 MBC/);
    expect(LibraryIndex.parse(JSON.parse(await readFile(join(out, 'library.json'), 'utf8'))).config.lr).toBe(0.02);
  }, 240_000);

  it('a base without _name_or_path is named by its folder, the same in library.json, the adapters and compile', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await microBase(root, tasksDir);
    const configPath = join(root, 'base', 'config.json');
    const { _name_or_path: _, ...config } = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(configPath, JSON.stringify(config));
    const out = join(root, 'lib');
    const res = await runCli(['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, ...MICRO_TRAIN, '--epochs', '1']);
    expect(res.code, res.stderr).toBe(0);
    const index = LibraryIndex.parse(JSON.parse(await readFile(join(out, 'library.json'), 'utf8')));
    expect(index.baseModel).toBe('base');
    for (const t of index.tasks) {
      const h = await openPeftAdapter(join(out, t.adapter));
      expect(h.baseModel).toBe('base');
      await h.close();
    }
    const compiled = await runCli(['compile', out, '--out', join(root, 'edge'), '-q', '--backend', 'wasm']);
    expect(compiled.code, compiled.stderr).toBe(0);
  }, 120_000);

  it('trains in worker processes from the compiled CLI (-j 2)', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await microBase(root, tasksDir);
    const { execFileSync } = await import('node:child_process');
    const out = join(root, 'lib');
    const stdout = execFileSync(process.execPath, ['bin/quiver.js', 'train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, ...MICRO_TRAIN.filter((x) => x !== '-q' && x !== '1' && x !== '-j'), '-j', '2', '--epochs', '1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(stdout).toMatch(/wrote .*library.json: 3 private and 2 MBC/);
    const index = LibraryIndex.parse(JSON.parse(await readFile(join(out, 'library.json'), 'utf8')));
    expect(index.tasks).toHaveLength(3);
  }, 240_000);

  it('names the file and line of a bad task example, and leaves no output folder', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await microBase(root, tasksDir);
    const good = (i: number) => JSON.stringify({ input: `in ${i}`, output: `out ${i}` });
    const cases: Array<[string, Uint8Array | string, RegExp]> = [
      ['broken.jsonl', '{"input": "a", "output": "b"}\n{"input": "a"}\n', /broken.jsonl:2: .*output/],
      // 0xE9 alone is Latin-1 "é", not UTF-8: it would have been read as U+FFFD and trained on.
      ['latin1.jsonl', Buffer.concat([Buffer.from(`${good(1)}\n${good(2)}\n{"input": "caf`), Buffer.from([0xe9]), Buffer.from('", "output": "x"}\n')]), /latin1.jsonl:3: not valid UTF-8/],
      // The micro base's context is 32 tokens; a single-file task is hash-split, so only the line number can name the example.
      ['long.jsonl', `${good(1)}\n${good(2)}\n${good(3)}\n${JSON.stringify({ input: 'x'.repeat(40), output: 'y' })}\n`, /long.jsonl:4: the example is 44 tokens \(prompt 42 \+ answer 2\), more than the model's context of 32/],
    ];
    for (const [file, content, message] of cases) {
      await writeFile(join(tasksDir, file), content);
      const res = await runCli(['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', join(root, 'lib'), ...MICRO_TRAIN]);
      expect([res.code, res.stderr]).toEqual([2, expect.stringMatching(message)]);
      expect(existsSync(join(root, 'lib'))).toBe(false);
      await rm(join(tasksDir, file));
    }
  }, 60_000);
});

describe('quiver pretrain resumes', () => {
  it('skips a checkpoint already pretrained with the same settings and text, retrains on a change', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await writeTasks(tasksDir);
    await writeFile(join(root, 'corpus.txt'), 'Some text.\n');
    const args = ['pretrain', '--out', join(root, 'base'), '--tasks', tasksDir, '--corpus', join(root, 'corpus.txt'), '--backend', 'wasm', ...MICRO_BASE, '--steps', '2'];
    expect((await runCli(args)).stdout).toMatch(/wrote/);
    expect((await runCli(args)).stdout).toMatch(/already pretrained with these settings and data/);
    await writeFile(join(root, 'corpus.txt'), 'Other text.\n');
    expect((await runCli(args)).stdout).toMatch(/wrote/);
  }, 60_000);
});

describe('quiver train after a kill', () => {
  it.skipIf(!HAS_PROC)('leaves no worker behind and resumes with the finished adapters', async () => {
    const root = await tempDir();
    const tasksDir = join(root, 'tasks');
    await writeTasks(tasksDir);
    await writeFile(join(root, 'corpus.txt'), 'Some text.\n');
    expect((await runCli(['pretrain', '--out', join(root, 'base'), '--tasks', tasksDir, '--corpus', join(root, 'corpus.txt'), '--backend', 'wasm', ...MICRO_BASE, '--steps', '2'])).code).toBe(0);
    const out = join(root, 'lib');
    const { spawn, execFileSync } = await import('node:child_process');
    const args = ['bin/quiver.js', 'train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', out, '--epochs', '40', '--batch-size', '7', '--lr', '0.01', '--eval-every', '1000', '--k', '2', '-j', '2', '-q', '--backend', 'wasm'];
    const parent = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise((r) => parent.once('exit', r));
    const done = () => ['first-letter', 'last-letter', 'upper-first'].filter((t) => existsSync(join(out, 'private', t, 'quiver_adapter.json')));
    await waitFor(() => done().length > 0, 'the first adapter', 90_000, 100);
    // Freeze the parent so it forks no worker between listing its workers and the kill.
    parent.kill('SIGSTOP');
    const workers = childPids(parent.pid!);
    expect(workers.length).toBeGreaterThan(0); // the other lane is still training
    parent.kill('SIGKILL');
    await exited;
    // Orphaned workers notice the lost parent and exit; until they do they could still write.
    await waitFor(() => workers.every((w) => !isRunning(w)), 'the workers to exit after their parent died', 20_000);
    const afterKill = done();
    expect(afterKill.length).toBeLessThan(3);
    const stdout = execFileSync(process.execPath, args.filter((a) => a !== '-q'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(stdout).toMatch(new RegExp(`wrote .*library.json: ${3 - afterKill.length} private and 2 MBC`));
  }, 180_000);
});
