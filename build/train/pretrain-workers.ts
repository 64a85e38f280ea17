/**
 * The other cores of data-parallel pretraining: worker processes (pretrain-worker.ts) that each
 * hold a replica of the base and, every step, take this step's weights and some shards and send
 * back each shard's loss and gradient (gradient-shards.ts). This process keeps the optimizer and
 * computes shards of its own meanwhile. tfjs-wasm runs one thread per process, so processes are how
 * a step uses every core (as build/worker-pool.ts for train and eval, whose jobs are independent;
 * here the workers serve every step, so they stay up). Messages use Node's 'advanced' serialization
 * (structured clone), which sends typed arrays as bytes: 3.5 MB of weights out and gradients back
 * per worker and step for the default base, a few ms against a step's second.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BACKEND_NAMES, type BackendName } from '../model/backend.js';
import { LlamaConfig } from '../model/config.js';
import { ShardGrads } from './gradient-shards.js';
import type { TrainBatch } from './train-batch.js';

const Batch = z.object({
  batchSize: z.number().int().positive(),
  seqLen: z.number().int().positive(),
  inputIds: z.custom<Int32Array>((v) => v instanceof Int32Array, 'an Int32Array'),
  labels: z.custom<Int32Array>((v) => v instanceof Int32Array, 'an Int32Array'),
});

/** What this process sends a worker. */
export const WorkerRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), config: LlamaConfig, backend: z.enum(BACKEND_NAMES) }),
  z.object({ type: z.literal('step'), weights: z.custom<Float32Array>((v) => v instanceof Float32Array, 'a Float32Array'), shards: z.array(Batch) }),
]);
export type WorkerRequest = z.input<typeof WorkerRequest>;

/** What a worker answers. */
export const WorkerReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('grads'), results: z.array(ShardGrads) }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type WorkerReply = z.infer<typeof WorkerReply>;

/** The compiled worker next to this module, or null when running from TypeScript sources (tests). */
export function compiledPretrainWorker(): string | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const path = fileURLToPath(new URL('./pretrain-worker.js', import.meta.url));
  return existsSync(path) ? path : null;
}

class Worker {
  private readonly child: ChildProcess;
  private waiting: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;

  constructor(script: string) {
    this.child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child.on('message', (raw) => {
      const w = this.waiting;
      this.waiting = null;
      const parsed = WorkerReply.safeParse(raw);
      if (!parsed.success) w?.reject(new Error(`pretraining worker sent a malformed message: ${parsed.error.message}`));
      else if (parsed.data.type === 'error') w?.reject(new Error(`pretraining worker failed: ${parsed.data.message}`));
      else w?.resolve(parsed.data);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`pretraining worker exited (${signal ?? `code ${code}`})`);
      this.waiting?.reject(this.exited);
      this.waiting = null;
    });
  }

  /**
   * Sends `request`; resolves once it is written out (so this process may compute meanwhile), with
   * the reply's promise inside an object (a promise resolved with a promise would wait for it).
   */
  async send(request: WorkerRequest): Promise<{ reply: Promise<WorkerReply> }> {
    if (this.exited) throw this.exited;
    if (this.waiting) throw new Error('pretraining worker: one request at a time');
    const reply = new Promise<WorkerReply>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    // Whoever awaits the reply sees its failure; if the send itself fails first, nobody will.
    reply.catch(() => undefined);
    // A large message is written out as the event loop turns: wait for it, because the caller then
    // blocks the loop with its own shards and the worker would receive its request only after.
    await new Promise<void>((resolve, reject) => this.child.send(request, undefined, {}, (err) => (err ? reject(err) : resolve())));
    return { reply };
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.exited === null) this.child.kill('SIGTERM');
  }
}

export class PretrainWorkers {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts `count` workers on `script`, each building a replica of `config` on `backend`. */
  static async start(count: number, script: string, config: LlamaConfig, backend: BackendName): Promise<PretrainWorkers> {
    const workers = Array.from({ length: count }, () => new Worker(script));
    const pool = new PretrainWorkers(workers);
    try {
      const sent = await Promise.all(workers.map((w) => w.send({ type: 'init', config, backend })));
      await Promise.all(sent.map((s) => s.reply));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Sends worker i the weights and `shards[i]`; resolves when every request is written out, with
   * the promise of every worker's results (one list per worker, one result per shard it was given).
   */
  async dispatch(weights: Float32Array, shards: readonly (readonly TrainBatch[])[]): Promise<{ results: Promise<ShardGrads[][]> }> {
    const sent = await Promise.all(this.workers.map((w, i) => w.send({ type: 'step', weights, shards: [...shards[i]!] })));
    const results = Promise.all(
      sent.map(async ({ reply }) => {
        const r = await reply;
        if (r.type !== 'grads') throw new Error(`pretraining worker answered ${r.type} to a step`);
        return r.results;
      }),
    );
    // Handled where it is awaited; until then a worker's failure must not count as unhandled.
    results.catch(() => undefined);
    return { results };
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}
