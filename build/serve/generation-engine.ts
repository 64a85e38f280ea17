/**
 * `quiver serve`'s scheduler: continuous batching (iteration-level, as vLLM and LoRAX do), with a
 * FIFO queue in front. Every iteration advances every running request by one token: requests are
 * grouped into lanes — all base and LoRA/merge rows of one mix class share a forward pass, each
 * row with its own adapter weights through one RowMix (build/eval/row-mix.ts); each per-token
 * Arrow router runs its rows in a pass of its own — and one nextTokenLogits per lane gives the
 * logits each request's sampler draws from. A request joins at the next iteration once a slot is
 * free (`maxBatch` running at most; the rest wait in arrival order) and leaves as soon as it ends,
 * so a long generation never holds up a short one. Between iterations the engine yields to the
 * event loop, so HTTP keeps being served. Tokens go out through callbacks that must not block;
 * the HTTP side queues them (async-queue.ts), so a slow client never stalls the engine.
 * A failure inside an iteration ends that lane's requests with an error; the engine goes on.
 */
import { RowMix, type RowMixDelta } from '../eval/row-mix.js';
import type { AdapterDelta, LlamaModel } from '../model/llama.js';
import { nextTokenLogits } from '../model/next-token-logits.js';
import type { AdapterChoice, ServedLora } from './adapter-choice.js';
import type { TokenSampler } from './sampling.js';
import { ServeError } from './serve-error.js';

export interface GeneratedToken {
  id: number;
  logprob: number;
  /** The model's end-of-sequence token: the last token of the request. */
  eos: boolean;
}

export type FinishReason = 'eos' | 'length' | 'stop' | 'cancelled';

export interface GenerationJob {
  prompt: readonly number[];
  adapter: AdapterChoice;
  sampler: TokenSampler;
  /** Tokens generated at most, <eos> included. */
  maxNewTokens: number;
  /** Go on past <eos> (vLLM ignore_eos, LoRAX ignore_eos_token): fixed-length generations, for benchmarks. */
  ignoreEos?: boolean;
  /** Each token in order, <eos> included; return true to end the request here (a stop string matched). */
  onToken(token: GeneratedToken): boolean;
  /** Called once, last. */
  onEnd(end: { reason: FinishReason } | { error: ServeError }): void;
  signal?: AbortSignal;
}

export interface EngineOptions {
  padId: number;
  eosId: number | null;
  /** Requests generating at once (default 32); more wait in the queue. */
  maxBatch?: number;
}

export interface EngineStats {
  running: number;
  queued: number;
  iterations: number;
  tokens: number;
}

interface Row {
  job: GenerationJob;
  seq: number[];
  generated: number;
  done: boolean;
}

/** Parameter mixes kept for reuse (keyed by their experts), least recently used dropped first. */
const MIX_CACHE_SIZE = 4;

export class GenerationEngine {
  private readonly queue: Row[] = [];
  private running: Row[] = [];
  private loopActive = false;
  private closed = false;
  private readonly mixes = new Map<string, RowMix>();
  private readonly maxBatch: number;
  private iterations = 0;
  private tokens = 0;

  constructor(
    private readonly model: LlamaModel,
    private readonly options: EngineOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 32;
  }

  get stats(): EngineStats {
    return { running: this.running.filter((r) => !r.done).length, queued: this.queue.length, iterations: this.iterations, tokens: this.tokens };
  }

  submit(job: GenerationJob): void {
    if (this.closed) throw new ServeError('internal', 'the server is shutting down');
    if (job.prompt.length === 0) throw new RangeError('a generation needs at least one prompt token');
    const row: Row = { job, seq: [...job.prompt], generated: 0, done: false };
    if (job.signal?.aborted) return this.end(row, { reason: 'cancelled' });
    job.signal?.addEventListener('abort', () => this.end(row, { reason: 'cancelled' }), { once: true });
    this.queue.push(row);
    if (!this.loopActive) void this.loop();
  }

  /** Ends every request (as cancelled) and frees the cached mixes. */
  close(): void {
    this.closed = true;
    for (const row of [...this.queue, ...this.running]) this.end(row, { reason: 'cancelled' });
    for (const m of this.mixes.values()) m.dispose();
    this.mixes.clear();
  }

  private async loop(): Promise<void> {
    this.loopActive = true;
    try {
      for (;;) {
        this.running = this.running.filter((r) => !r.done);
        while (this.running.length < this.maxBatch && this.queue.length > 0) {
          const row = this.queue.shift()!;
          if (!row.done) this.running.push(row);
        }
        if (this.running.length === 0) break;
        this.iterate();
        // Let HTTP in: accept requests, write tokens, notice closed connections.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.loopActive = false;
    }
  }

  private iterate(): void {
    this.iterations++;
    const lanes = new Map<string, Row[]>();
    const base: Row[] = [];
    for (const row of this.running) {
      const a = row.job.adapter;
      if (a.kind === 'base') base.push(row);
      else {
        const key = a.kind === 'router' ? `router:${a.router.name}` : `mix:${a.parts[0]!.lora.mixClass}`;
        lanes.set(key, [...(lanes.get(key) ?? []), row]);
      }
    }
    // Base rows ride along with the first mix lane (all-zero weights), or run on their own.
    const firstMix = [...lanes.keys()].find((k) => k.startsWith('mix:'));
    if (base.length > 0) {
      if (firstMix) lanes.get(firstMix)!.push(...base);
      else lanes.set('base', base);
    }
    for (const rows of lanes.values()) this.runLane(rows);
  }

  private runLane(rows: Row[]): void {
    let data: Float32Array;
    try {
      const { delta, release } = this.deltaFor(rows);
      try {
        const logits = nextTokenLogits(this.model, rows.map((r) => r.seq), this.options.padId, delta);
        data = logits.dataSync() as Float32Array;
        logits.dispose();
      } finally {
        release();
      }
    } catch (err) {
      const message = `generation failed: ${err instanceof Error ? err.message : String(err)}`;
      for (const row of rows) this.end(row, { error: new ServeError('internal', message) });
      return;
    }
    const vocab = data.length / rows.length;
    rows.forEach((row, b) => {
      if (!row.done) this.advance(row, data.subarray(b * vocab, (b + 1) * vocab));
    });
  }

  private advance(row: Row, logits: Float32Array): void {
    const { job } = row;
    let stop: boolean;
    let eos: boolean;
    try {
      const t = job.sampler.next(logits);
      eos = t.id === this.options.eosId && !job.ignoreEos;
      row.generated++;
      this.tokens++;
      stop = job.onToken({ ...t, eos });
      row.seq.push(t.id);
    } catch (err) {
      return this.end(row, { error: err instanceof ServeError ? err : new ServeError('internal', `generation failed: ${(err as Error).message}`) });
    }
    if (eos) this.end(row, { reason: 'eos' });
    else if (stop) this.end(row, { reason: 'stop' });
    else if (row.generated >= job.maxNewTokens || row.seq.length >= this.model.config.maxPositionEmbeddings) this.end(row, { reason: 'length' });
  }

  private end(row: Row, end: { reason: FinishReason } | { error: ServeError }): void {
    if (row.done) return;
    row.done = true;
    const i = this.queue.indexOf(row);
    if (i >= 0) this.queue.splice(i, 1);
    try {
      row.job.onEnd(end);
    } catch {
      // a callback's failure is the caller's; the engine goes on
    }
  }

  /** The delta for a lane: a router's, or one RowMix over every LoRA its rows use, each row with its weights. */
  private deltaFor(rows: readonly Row[]): { delta: AdapterDelta | null; release(): void } {
    const first = rows[0]!.job.adapter;
    if (first.kind === 'router') return { delta: first.router.delta, release: () => {} };
    const used = new Map<string, ServedLora>();
    for (const row of rows) {
      const a = row.job.adapter;
      if (a.kind === 'mix') for (const p of a.parts) used.set(p.lora.key, p.lora);
    }
    if (used.size === 0) return { delta: null, release: () => {} };
    const loras = [...used.values()].sort((x, y) => (x.key < y.key ? -1 : 1));
    const key = loras.map((l) => l.key).join('\n');
    let mix = this.mixes.get(key);
    if (mix) this.mixes.delete(key); // re-inserted below as the most recent
    else mix = new RowMix(this.model.config, loras.map((l) => l.expert));
    this.mixes.set(key, mix);
    while (this.mixes.size > MIX_CACHE_SIZE) {
      const [oldKey, old] = this.mixes.entries().next().value as [string, RowMix];
      this.mixes.delete(oldKey);
      old.dispose();
    }
    const column = new Map(loras.map((l, e) => [l.key, e]));
    const E = loras.length;
    const weights = new Float32Array(rows.length * E);
    rows.forEach((row, b) => {
      const a = row.job.adapter;
      if (a.kind !== 'mix') return;
      for (const p of a.parts) {
        const at = b * E + column.get(p.lora.key)!;
        weights[at] = weights[at]! + p.weight;
      }
    });
    const delta: RowMixDelta = mix.forRows(weights, rows.length);
    return { delta, release: () => delta.dispose() };
  }
}
