/**
 * `npm start`: the whole product on one machine, offline. Starts `quiver serve` on the default
 * library (the backend) and the edge worker under `wrangler dev` pointed at it — vLLM's form by
 * default, LoRAX's with `--lorax` — sends one prompt of each held-out task through the worker, and
 * prints what was routed, what came back, and the time spent routing and generating (measured from
 * outside: workerd's clock stands still inside a request). Then both keep running, URLs printed,
 * until Ctrl-C, which stops both and every process they started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    lorax: { type: 'boolean', default: false },
    library: { type: 'string', default: 'library' },
    'serve-port': { type: 'string', default: '8000' },
    'edge-port': { type: 'string', default: '8787' },
    'max-tokens': { type: 'string', default: '24' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write('npm start [-- --lorax] [--library library] [--serve-port 8000] [--edge-port 8787] [--max-tokens 24]\n');
  process.exit(0);
}

const children: ChildProcess[] = [];
let stopping = false;

/** Each child leads its own process group, so stopping it stops what it spawned (workerd). */
function start(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  return child;
}

function stopAll(): Promise<void> {
  stopping = true;
  return Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          try {
            process.kill(-c.pid!, 'SIGTERM');
          } catch {
            resolve();
          }
          setTimeout(() => {
            try {
              process.kill(-c.pid!, 'SIGKILL');
            } catch {
              // already gone
            }
          }, 5000).unref();
        }),
    ),
  ).then(() => undefined);
}

async function fail(message: string): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  process.stderr.write(`npm start: ${message}\n`);
  await stopAll();
  process.exit(1);
}

/** Resolves with the first stdout line matching `re`; rejects if the child exits first. */
function waitForLine(child: ChildProcess, re: RegExp, name: string, log: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += String(d);
      log.push(String(d));
      const m = buf.split('\n').find((l) => re.test(l.trim()));
      if (m) resolve(m.trim());
    });
    child.stderr!.on('data', (d) => log.push(String(d)));
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${log.join('').slice(-3000)}`)));
  });
}

async function waitHttp(url: string, child: ChildProcess, name: string, log: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${log.join('').slice(-3000)}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not answer ${url} within 120 s:\n${log.join('').slice(-3000)}`);
}

async function heldOutPrompts(): Promise<Array<{ task: string; input: string; output: string }>> {
  const dir = 'data/heldout';
  const tasks = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return Promise.all(
    tasks.map(async (task) => {
      const first = (await readFile(join(dir, task, 'test.jsonl'), 'utf8')).split('\n')[0]!;
      const { input, output } = JSON.parse(first) as { input: string; output: string };
      return { task, input, output };
    }),
  );
}

async function post(url: string, body: unknown): Promise<{ ms: number; status: number; json: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  return { ms: performance.now() - t0, status: res.status, json };
}

process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));

const serveLog: string[] = [];
const serve = start(process.execPath, ['bin/quiver.js', 'serve', args.library!, '--port', args['serve-port']!]);
const backendUrl = await waitForLine(serve, /^http:\/\//, 'quiver serve', serveLog).catch((e: Error) => fail(e.message));

const edgeLog: string[] = [];
const backend = args.lorax ? 'lorax' : 'vllm';
const edge = start(join('node_modules', '.bin', 'wrangler'), ['dev', '--ip', '127.0.0.1', '--port', args['edge-port']!, '--var', `QUIVER_BACKEND:${backend}`, '--var', `QUIVER_BACKEND_URL:${backendUrl}`], {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
});
edge.stdout!.on('data', (d) => edgeLog.push(String(d)));
edge.stderr!.on('data', (d) => edgeLog.push(String(d)));
const edgeUrl = `http://127.0.0.1:${args['edge-port']}`;
await waitHttp(`${edgeUrl}/healthz`, edge, 'wrangler dev', edgeLog).catch((e: Error) => fail(e.message));

process.stdout.write(`\nquiver serve (${backend} form) at ${backendUrl}; edge worker at ${edgeUrl} → ${backend}\n`);
process.stdout.write('one prompt of each held-out task, through the worker (model "auto", greedy):\n\n');
for (const p of await heldOutPrompts()) {
  const route = await post(`${edgeUrl}/v1/route`, { input: p.input });
  const chat = await post(`${edgeUrl}/v1/chat/completions`, { model: 'auto', messages: [{ role: 'user', content: p.input }], max_tokens: Number(args['max-tokens']), temperature: 0 });
  const chosen = route.status === 200 ? (route.json.adapters as Array<{ id: string; weight: number }>).map((a) => `${a.id} ${a.weight.toFixed(2)}`).join(', ') || 'base model (below threshold)' : `route failed: ${JSON.stringify(route.json)}`;
  const answer = chat.status === 200 ? String(chat.json.choices?.[0]?.message?.content ?? '') : `error ${chat.status}: ${chat.json.error?.message}`;
  process.stdout.write(`${p.task}\n  prompt   ${JSON.stringify(p.input)}\n  routed   ${chosen}\n  answer   ${JSON.stringify(answer)} (expected ${JSON.stringify(p.output)})\n`);
  process.stdout.write(`  time     routing ${route.ms.toFixed(0)} ms, routing + generating ${chat.ms.toFixed(0)} ms\n\n`);
}
process.stdout.write(`Both keep running: worker ${edgeUrl} (try ${edgeUrl}/openapi.json), backend ${backendUrl}. Ctrl-C stops both.\n`);
serve.once('exit', (code) => void fail(`quiver serve exited (${code})`));
edge.once('exit', (code) => void fail(`wrangler dev exited (${code})`));
