/**
 * No module imports itself through others (type imports included): a cycle makes load order
 * matter and says two files share one idea. Reads every source file's static imports.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOTS = ['shared', 'build', 'edge', 'bench'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1)).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative `import … from './x.js'`, `export … from`, and bare `import './x.js'`, as the .ts files they name. */
function importsOf(file: string, known: ReadonlySet<string>): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+'(\.[^']+)'/gm), ...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))).filter((f) => known.has(f));
}

function importCycles(files: readonly string[]): string[][] {
  const known = new Set(files);
  const graph = new Map(files.map((f) => [f, importsOf(f, known)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f)!) {
      if (state.get(d) === 'open') cycles.push(stack.slice(stack.indexOf(d)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return cycles;
}

describe('imports', () => {
  const root = resolve('.');
  const files = ROOTS.flatMap((r) => sources(join(root, r)));

  it('finds a cycle, type imports and multi-line imports included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
      writeFileSync(join(dir, 'b.ts'), "import {\n  c,\n} from './c.js';\nexport type B = number;\nexport const x = c;\n");
      writeFileSync(join(dir, 'c.ts'), "export { type A } from './a.js';\nexport const c = 1;\n");
      writeFileSync(join(dir, 'd.ts'), "import './c.js';\n");
      expect(importCycles(sources(dir)).map((c) => c.map((f) => relative(dir, f)))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('form no cycle in shared/, build/, edge/ or bench/', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(importCycles(files).map((c) => c.map((f) => relative(root, f)))).toEqual([]);
  });
});
