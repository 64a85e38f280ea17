/**
 * `npm run bench:edge`: the edge router's cost, measured from outside the worker as a client sees
 * it (workerd's clock does not advance inside a request).
 *   1. under `wrangler dev`: the first /v1/route after start; then, once the worker is warm (V8
 *      compiles wasm with a fast baseline compiler first and optimises hot functions while they
 *      run, so the first few hundred forwards are slower), p50 and p95 of /v1/route at 16, 64,
 *      96 (the default base's context) and 512 prompt tokens (routed on its 96-token window), each
 *      beside GET /healthz — the no-op baseline — measured in the same run, interleaved; the CPU
 *      time workerd spends per request (what the Workers plans limit), read from Linux's
 *      per-thread schedstat of the workerd processes, route against healthz in rounds; 200 concurrent
 *      routes, all answered;
 *   2. the bare onnxruntime-web forward of the same embedder in Node at the same lengths;
 *   3. the bundle, raw and gzip, from `wrangler deploy --dry-run --outdir`;
 *   4. what a cheaper edge costs in routing quality: agreement with the full embedder of
 *      `quiver compile --layers 1..3`, of `--weights int8` and of shorter windows, on the test
 *      prompts of every task.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
/** Routes before the table: the worker's steady state, past V8's tier-up of the wasm kernels. */
const WARM_UP = 300;
/** Rounds of the CPU measurement (10 routes, then 10 healthz, each). */
const CPU_ROUNDS = 8;
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

/** The processes below `root` (by /proc's parent links) whose command is workerd. */
function workerdProcesses(root: number): number[] {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...comm].filter(([pid, c]) => c === 'workerd' && below(pid)).map(([pid]) => pid);
}

/** CPU time (ns) the processes' threads have run so far (the first field of each thread's schedstat). */
function cpuNs(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that ended
      }
    }
  }
  return ns;
}

/** Mean workerd CPU time (ms) per request over `runs` sequential requests. */
async function cpuPerRequest(pids: readonly number[], runs: number, fn: () => Promise<Response>): Promise<number> {
  const c0 = cpuNs(pids);
  for (let i = 0; i < runs; i++) await timed(fn);
  return (cpuNs(pids) - c0) / runs / 1e6;
}

/**
 * workerd CPU per request, a route against healthz, in CPU_ROUNDS rounds that take turns (10 of
 * each per round): a burst of other work on the machine lands in one round, not in the whole
 * figure. The medians over rounds, and the per-round difference's median and least.
 */
async function cpuRouteOverHealth(pids: readonly number[], route: () => Promise<Response>, health: () => Promise<Response>) {
  const routes: number[] = [];
  const healths: number[] = [];
  const diffs: number[] = [];
  for (let r = 0; r < CPU_ROUNDS; r++) {
    const a = await cpuPerRequest(pids, 10, route);
    const b = await cpuPerRequest(pids, 10, health);
    routes.push(a);
    healths.push(b);
    diffs.push(a - b);
  }
  return { route: quantile(routes, 0.5), health: quantile(healths, 0.5), diff: quantile(diffs, 0.5), diffMin: quantile(diffs, 0) };
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
    const pids = workerdProcesses(proc.pid!);
    console.log(`\nwrangler dev (workerd, onnxruntime-web wasm, one thread), ${RUNS} runs per row, interleaved with GET /healthz`);
    console.log(`  first /v1/route after start: ${first.toFixed(0)} ms (wasm instantiation + session)`);
    const warm: number[] = [];
    for (let i = 0; i < WARM_UP; i++) warm.push(await timed(route(promptOf(16 + (i % 81)))));
    console.log(`  warm-up: ${WARM_UP} routes of 16-96 tokens, the first 20 at p50 ${quantile(warm.slice(0, 20), 0.5).toFixed(1)} ms, the last 20 at ${quantile(warm.slice(-20), 0.5).toFixed(1)} ms`);
    console.log(`  workerd CPU per request: the ${pids.length} workerd processes' threads, ${CPU_ROUNDS} rounds of 10 routes then 10 healthz; medians over rounds (least round)`);
    console.log('  tokens | route p50 | route p95 | healthz p50 | healthz p95 | route − healthz (p50) | (min) | CPU: route | healthz | route − healthz (least)');
    for (const n of LENGTHS) {
      const r: number[] = [];
      const h: number[] = [];
      const f = route(promptOf(n));
      for (let i = 0; i < 5; i++) await timed(f);
      for (let i = 0; i < RUNS; i++) {
        r.push(await timed(f));
        h.push(await timed(health));
      }
      const cpu = await cpuRouteOverHealth(pids, f, health);
      const label = n > 96 ? `${n} (→96)` : String(n);
      console.log(`  ${label.padStart(9)} | ${quantile(r, 0.5).toFixed(1).padStart(6)} ms | ${quantile(r, 0.95).toFixed(1).padStart(6)} ms | ${quantile(h, 0.5).toFixed(1).padStart(8)} ms | ${quantile(h, 0.95).toFixed(1).padStart(8)} ms | ${(quantile(r, 0.5) - quantile(h, 0.5)).toFixed(1).padStart(6)} ms | ${(quantile(r, 0) - quantile(h, 0)).toFixed(1)} ms | ${cpu.route.toFixed(2)} ms | ${cpu.health.toFixed(2)} ms | ${cpu.diff.toFixed(2)} ms (${cpu.diffMin.toFixed(2)})`);
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
  console.log(`\nonnxruntime-web in Node (wasm, one thread), the same embedder, after ${WARM_UP} forwards of 16-96 tokens: 60 forwards (min: the cost on an idle core)`);
  for (let i = 0; i < WARM_UP; i++) await lib.embedder.run(promptIds(lib.tokenizer, promptOf(16 + (i % 81))));
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
    const int8 = join(tmp, 'int8');
    execFileSync(process.execPath, ['bin/quiver.js', 'compile', 'library', '--out', int8, '--weights', 'int8', '-q'], { stdio: 'pipe' });
    rows.push({ label: `--weights int8 (${(await stat(join(int8, 'embedder.onnx'))).size.toLocaleString('en-US')} B onnx)`, router: await openCompiledRouter(int8) });
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
