/**
 * The shipped library (library/) is what `quiver pretrain` and `quiver train` build with their
 * defaults: the base's recorded run hash is the default settings' hash, and a default `quiver train`
 * into a copy of the library finds every adapter already trained. Another configuration needs --force.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pretrainingLines, pretrainRunHash } from '../build/commands/pretrain.js';
import { PretrainConfig } from '../build/train/pretrain-config.js';
import { runCli } from './helpers/run-cli.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('the defaults are the shipped library\'s configuration', () => {
  it('quiver pretrain: the default settings hash to the run that made library/base', async () => {
    const base = JSON.parse(await readFile('library/base/config.json', 'utf8')) as { quiver_pretrain: { hash: string; steps: number } };
    const defaults = PretrainConfig.parse({});
    expect(defaults.steps).toBe(base.quiver_pretrain.steps);
    const { lines } = await pretrainingLines('data/corpus/sotu.txt', 'data/tasks');
    expect(pretrainRunHash(defaults, lines)).toBe(base.quiver_pretrain.hash);
  });

  it('quiver train with no option finds every adapter of the library trained; another configuration asks for --force', async () => {
    const lib = await tempDir();
    for (const part of ['base', 'private', 'mbc', 'library.json']) await cp(join('library', part), join(lib, part), { recursive: true });
    const res = await runCli(['train', '--base', join(lib, 'base'), '--out', lib, '-q']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/library.json: 0 private and 0 MBC adapters trained/);

    const before = await readFile(join(lib, 'library.json'), 'utf8');
    const other = await runCli(['train', '--base', join(lib, 'base'), '--out', lib, '--epochs', '5', '--mbc-epochs', '2', '-q']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds a library trained with another configuration \(epochs 3 → 5, MBC epochs 1 → 2\); .*Pass --force/);
    expect(await readFile(join(lib, 'library.json'), 'utf8')).toBe(before);
  }, 60_000);

  it('a library.json from before `init` existed reads as trained from Kaiming-uniform A, so the eva default asks for --force', async () => {
    const lib = await tempDir();
    for (const part of ['base', 'library.json']) await cp(join('library', part), join(lib, part), { recursive: true });
    const index = JSON.parse(await readFile(join(lib, 'library.json'), 'utf8')) as { config: Record<string, unknown>; mbcConfig: Record<string, unknown> };
    for (const c of [index.config, index.mbcConfig]) {
      delete c.init;
      delete c.initExamples;
    }
    await writeFile(join(lib, 'library.json'), JSON.stringify(index, null, 2) + '\n');
    const res = await runCli(['train', '--base', join(lib, 'base'), '--out', lib, '-q']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/another configuration \(init "kaiming" → "eva"\); .*Pass --force/);
  }, 60_000);
});
