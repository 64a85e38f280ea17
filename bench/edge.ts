/**
 * `npm run bench:edge`: the edge router's cost, measured from outside the worker as a client sees
 * it (workerd's clock does not advance inside a request).
 *   1. under `wrangler dev`: the first /v1/route after start; p50 and p95 of /v1/route at 16, 64,
 *      96 (the default base's context) and 512 prompt tokens (routed on its 96-token window), each
 *      beside GET /healthz — the no-op baseline — measured in the same run, interleaved;
 *      200 concurrent routes, all answered;
 *   2. the bare onnxruntime-web forward of the same embedder in Node at the same lengths;
 *   3. the bundle, raw and gzip, from `wrangler deploy --dry-run --outdir`;
 *   4. what a cheaper edge costs in routing quality: agreement with the full embedder of
 *      `quiver compile --layers 1..3` and of shorter windows, on the test prompts of every task.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ortWeb from 'onnxruntime-web';
import { openCompiledRouter, readCompiledFiles, type OpenRouter } from '../build/io/compiled-router.js';
import { openCompiledLibrary } from '../shared/router/compiled-library.js';
import { ortRuntime, type OrtModuleLike } from '../shared/router/ort-runtime.js';
import { promptIds } from '../shared/router/prompt-ids.js';
import { routeRequest } from '../shared/router/route-request.js';

const COMPILED = 'library/compiled';
const LENGTHS = [16, 64, 96, 512];
const RUNS = Number(process.env.QUIVER_BENCH_RUNS ?? 60);
const WRANGLER = join(process.cwd(), 'node_modules', '.bin', 'wrangler');
const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A task-like prompt of exactly `tokens` ids for the byte-level default base (<bos> + bytes + ' '). */
function promptOf(tokens: number): string {
  const text = 'Reverse the word: apple. '.repeat(Math.ceil(tokens / 25) + 1);
  return text.slice(0, tokens - 2);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitListening(url: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    // /openapi.json does not open the library, so the first route below still pays for it.
    if (await fetch(`${url}/openapi.json`).then((r) => r.ok).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('wrangler dev did not start');
}

async function timed(fn: () => Promise<Response>): Promise<number> {
  const t0 = performance.now();
  const res = await fn();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return performance.now() - t0;
}

async function benchWorker(): Promise<void> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(WRANGLER, ['dev', '--ip', '127.0.0.1', '--port', String(port)], { env: wranglerEnv, stdio: 'ignore' });
  try {
    await waitListening(url, proc);
    const route = (input: string) => () => fetch(`${url}/v1/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
    const health = () => fetch(`${url}/healthz`);
    const first = await timed(route(promptOf(16)));
    console.log(`\nwrangler dev (workerd, onnxruntime-web wasm, one thread), ${RUNS} runs per row, interleaved with GET /healthz`);
    console.log(`  first /v1/route after start: ${first.toFixed(0)} ms (wasm instantiation + session)`);
    console.log('  tokens | route p50 | route p95 | healthz p50 | healthz p95 | route − healthz (p50) | (min)');
    for (const n of LENGTHS) {
      const r: number[] = [];
      const h: number[] = [];
      const f = route(promptOf(n));
      for (let i = 0; i < 5; i++) await timed(f);
      for (let i = 0; i < RUNS; i++) {
        r.push(await timed(f));
        h.push(await timed(health));
      }
      const label = n > 96 ? `${n} (→96)` : String(n);
      console.log(`  ${label.padStart(9)} | ${quantile(r, 0.5).toFixed(1).padStart(6)} ms | ${quantile(r, 0.95).toFixed(1).padStart(6)} ms | ${quantile(h, 0.5).toFixed(1).padStart(8)} ms | ${quantile(h, 0.95).toFixed(1).padStart(8)} ms | ${(quantile(r, 0.5) - quantile(h, 0.5)).toFixed(1).padStart(6)} ms | ${(quantile(r, 0) - quantile(h, 0)).toFixed(1)} ms`);
    }
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => route(promptOf(16 + (i % 64)))().then((res) => res.status).catch(() => 0)));
    const ok = all.filter((s) => s === 200).length;
    console.log(`  200 concurrent /v1/route: ${ok}/200 answered 200 in ${(performance.now() - t0).toFixed(0)} ms`);
  } finally {
    proc.kill('SIGTERM');
  }
}

async function benchBareForward(): Promise<void> {
  ortWeb.env.wasm.numThreads = 1;
  const files = await readCompiledFiles(COMPILED);
  const lib = await openCompiledLibrary(files, ortRuntime(ortWeb as unknown as OrtModuleLike), COMPILED);
  console.log('\nonnxruntime-web in Node (wasm, one thread), the same embedder: 60 forwards (min: the cost on an idle core)');
  for (const n of LENGTHS.filter((x) => x <= 96).concat([512])) {
    const ids = promptIds(lib.tokenizer, promptOf(Math.min(n, 96)));
    const xs: number[] = [];
    for (let i = 0; i < 63; i++) {
      const t0 = performance.now();
      await lib.embedder.run(ids);
      if (i >= 3) xs.push(performance.now() - t0);
    }
    console.log(`  ${String(n > 96 ? `${n} (→96)` : n).padStart(9)} tokens: min ${quantile(xs, 0).toFixed(2)} ms, p50 ${quantile(xs, 0.5).toFixed(2)} ms`);
  }
  await lib.release();
}

async function benchBundle(): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'quiver-bundle-'));
  try {
    execFileSync(WRANGLER, ['deploy', '--dry-run', '--outdir', out], { env: wranglerEnv, stdio: 'pipe' });
    let raw = 0;
    let gz = 0;
    const parts: string[] = [];
    for (const f of await readdir(out)) {
      if (f.endsWith('.map')) continue;
      const b = await readFile(join(out, f));
      raw += b.length;
      const g = gzipSync(b, { level: 9 }).length;
      gz += g;
      parts.push(`${f} ${(b.length / 1e6).toFixed(2)} MB (${(g / 1e6).toFixed(2)} gzip)`);
    }
    console.log(`\nbundle (wrangler deploy --dry-run): ${(raw / 1e6).toFixed(2)} MB raw, ${(gz / 1e6).toFixed(2)} MB gzip`);
    for (const p of parts) console.log(`  ${p}`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function testPrompts(perTask: number): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ['data/tasks', 'data/heldout']) {
    for (const task of (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
      const lines = (await readFile(join(dir, task, 'test.jsonl'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
      for (const l of lines.slice(0, perTask)) out.push((JSON.parse(l) as { input: string }).input);
    }
  }
  return out;
}

async function benchAgreement(): Promise<void> {
  const prompts = await testPrompts(6);
  const full = await openCompiledRouter(COMPILED);
  const reference = await Promise.all(prompts.map((p) => routeRequest(full, p)));
  const tmp = await mkdtemp(join(tmpdir(), 'quiver-layers-'));
  const rows: Array<{ label: string; router: OpenRouter; maxTokens?: number }> = [];
  try {
    for (const layers of [1, 2, 3]) {
      const out = join(tmp, `l${layers}`);
      execFileSync(process.execPath, ['bin/quiver.js', 'compile', 'library', '--out', out, '--layers', String(layers), '-q'], { stdio: 'pipe' });
      rows.push({ label: `--layers ${layers} (${(await stat(join(out, 'embedder.onnx'))).size.toLocaleString('en-US')} B onnx)`, router: await openCompiledRouter(out) });
    }
    for (const w of [8, 16, 32]) rows.push({ label: `--window ${w} (all layers)`, router: full, maxTokens: w });
    console.log(`\nrouting agreement with the full embedder (4 layers, window 96), ${prompts.length} test prompts of every task and held-out task`);
    console.log('  edge | top-1 same | top-k set same | forward at 64 tokens or the window (onnxruntime-node)');
    for (const row of rows) {
      let top1 = 0;
      let set = 0;
      for (let i = 0; i < prompts.length; i++) {
        const r = await routeRequest(row.router, prompts[i]!, row.maxTokens ? { maxTokens: row.maxTokens } : {});
        const ref = reference[i]!;
        if (r.selected[0]?.id === ref.selected[0]?.id) top1++;
        if (r.selected.map((s) => s.id).sort().join() === ref.selected.map((s) => s.id).sort().join()) set++;
      }
      const ids = promptIds(row.router.tokenizer, promptOf(Math.min(64, row.maxTokens ?? 64)));
      const xs: number[] = [];
      for (let i = 0; i < 23; i++) {
        const t0 = performance.now();
        await row.router.embedder.run(ids);
        if (i >= 3) xs.push(performance.now() - t0);
      }
      console.log(`  ${row.label} | ${((100 * top1) / prompts.length).toFixed(1)}% | ${((100 * set) / prompts.length).toFixed(1)}% | ${quantile(xs, 0.5).toFixed(2)} ms`);
    }
  } finally {
    for (const r of rows) if (r.router !== full) await r.router.release();
    await full.release();
    await rm(tmp, { recursive: true, force: true });
  }
}

await benchWorker();
await benchBareForward();
await benchBundle();
await benchAgreement();
