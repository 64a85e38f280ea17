/**
 * `quiver serve` throughput on the default library: generated tokens per second over HTTP for the
 * base model, one adapter, a LoRAX linear merge of three adapters, and per-token Arrow over the 29
 * private adapters, each as a ratio to the base model in the same run. The same route for all
 * (LoRAX /generate: merges exist only there), the same held-out prompts, fixed-length generations
 * (ignore_eos_token, 32 new tokens), at 1 request at a time and at 8 concurrent (batched) requests.
 * Systems take turns, round after round, and the median round counts, so a machine shared with
 * other work slows them alike.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServe } from '../build/serve/start-serve.js';
import { ARROW_MODEL_NAMES } from '../build/serve/serve-library.js';

const LIBRARY = process.env.QUIVER_BENCH_LIBRARY ?? 'library';
const NEW_TOKENS = 32;
const ROUNDS = Number(process.env.QUIVER_BENCH_ROUNDS ?? 3);

interface System {
  name: string;
  parameters: Record<string, unknown>;
}

const SYSTEMS: System[] = [
  { name: 'base', parameters: {} },
  { name: 'one adapter (reverse-word-arrow)', parameters: { adapter_id: 'reverse-word-arrow' } },
  { name: '3-adapter linear merge', parameters: { merged_adapters: { ids: ['reverse-word-arrow', 'reverse-adjective-qa', 'cluster-7'], weights: [0.5, 0.3, 0.2], merge_strategy: 'linear' } } },
  { name: `per-token Arrow (${ARROW_MODEL_NAMES.private})`, parameters: { adapter_id: ARROW_MODEL_NAMES.private } },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One held-out prompt per held-out task, in the training form. */
async function prompts(): Promise<string[]> {
  const heldout = join('data', 'heldout');
  const suite = JSON.parse(await readFile(join('data', 'tasks', 'suite.json'), 'utf8')) as { tasks: Array<{ name: string; heldOut: boolean }> };
  const out: string[] = [];
  for (const t of suite.tasks.filter((x) => x.heldOut)) {
    const first = (await readFile(join(heldout, t.name, 'test.jsonl'), 'utf8')).split('\n')[0]!;
    out.push(`<bos>${(JSON.parse(first) as { input: string }).input} `);
  }
  return out;
}

export async function benchServe(): Promise<void> {
  const server = await startServe({ library: LIBRARY, port: 0, log: () => {} });
  try {
    const inputs = await prompts();
    const generate = async (parameters: Record<string, unknown>, i: number): Promise<number> => {
      const res = await fetch(`${server.url}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: inputs[i % inputs.length], parameters: { ...parameters, max_new_tokens: NEW_TOKENS, ignore_eos_token: true, details: true } }),
      });
      if (!res.ok) throw new Error(`${res.status}: ${await res.text()}`);
      return ((await res.json()) as { details: { generated_tokens: number } }).details.generated_tokens;
    };
    /** Tokens per second for `requests` requests, `concurrency` at a time. */
    const throughput = async (s: System, concurrency: number, requests: number): Promise<number> => {
      const t0 = performance.now();
      let tokens = 0;
      for (let i = 0; i < requests; i += concurrency) {
        const batch = await Promise.all(Array.from({ length: Math.min(concurrency, requests - i) }, (_, j) => generate(s.parameters, i + j)));
        tokens += batch.reduce((a, b) => a + b, 0);
      }
      return tokens / ((performance.now() - t0) / 1000);
    };
    for (const s of SYSTEMS) await throughput(s, 2, 2); // warm-up: tensors built, code paths compiled
    console.log(`quiver serve on ${LIBRARY}: ${NEW_TOKENS} new tokens per request, held-out prompts, median of ${ROUNDS} rounds`);
    for (const [concurrency, requests] of [
      [1, 4],
      [8, 16],
    ] as const) {
      const rates = SYSTEMS.map(() => [] as number[]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [k, s] of SYSTEMS.entries()) rates[k]!.push(await throughput(s, concurrency, requests));
      }
      const base = median(rates[0]!);
      console.log(`\n${concurrency} request${concurrency > 1 ? 's' : ''} at a time (${requests} requests)`);
      console.log(`| system | tokens/s | vs base |\n|---|---:|---:|`);
      for (const [k, s] of SYSTEMS.entries()) {
        const r = median(rates[k]!);
        console.log(`| ${s.name} | ${r.toFixed(0)} | ${(r / base).toFixed(2)}× |`);
      }
    }
  } finally {
    await server.close();
  }
}
