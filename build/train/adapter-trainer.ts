/**
 * Trains one adapter job (build/train/adapter-job.ts) in this process: a fresh LoRA on the frozen
 * base, on the union of the job's tasks' training splits, with validation-based early stopping
 * (the best weights are kept), then test loss per task, and the PEFT folder plus
 * quiver_adapter.json written in one atomic step.
 */
import { QuiverInputError } from '../../shared/errors.js';
import { Rng } from '../../shared/random.js';
import { writePeftAdapter } from '../io/write-peft-adapter.js';
import { selectBackend } from '../model/backend.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { Lora, type LoraModule } from '../model/lora.js';
import { ADAPTER_META_FILE, type AdapterJob, type AdapterMeta, type JobProgress } from './adapter-job.js';
import type { AdapterTiming } from '../io/library-index.js';
import type { TaskExample } from '../../shared/task-data.js';
import { encodeExample, fitsContext, type EncodedExample } from './encode-examples.js';
import { StepTrainer } from './step-trainer.js';
import { evaInitModules } from './eva-init.js';
import { evenlySpaced } from '../../shared/evenly-spaced.js';
import type { TrainConfig } from './train-config.js';
import type { LlamaModel } from '../model/llama.js';
import { promptAnswerBatch, type TrainBatch } from './train-batch.js';
import { loadTaskSet } from './task-set.js';

/** Batches of at most `size`, each padded to its own longest example (no fixed seqLen). */
export function batchesOf(examples: readonly EncodedExample[], size: number, padId: number): TrainBatch[] {
  const out: TrainBatch[] = [];
  for (let i = 0; i < examples.length; i += size) out.push(promptAnswerBatch(examples.slice(i, i + size), padId));
  return out;
}

function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Token-weighted mean answer loss of `adapter` (null: the base model) over `batches`. */
function meanLoss(trainer: StepTrainer, batches: TrainBatch[]): number {
  return trainer.evaluateLoss(batches).loss;
}

/** The LoRA a job starts from, as `config.init` says (B zero either way). */
export function initialLora(model: LlamaModel, train: readonly EncodedExample[], c: TrainConfig, padId: number): Lora {
  const lora = { r: c.r, loraAlpha: c.loraAlpha, loraDropout: c.loraDropout, targetModules: c.targetModules };
  if (c.init === 'kaiming') return Lora.init(model.config, lora, c.seed);
  const prompts = evenlySpaced(train, c.initExamples).map((x) => x.prompt);
  const modules = evaInitModules(model, prompts, { r: c.r, targetModules: c.targetModules, inputs: c.init === 'eva-centred' ? 'centred' : 'raw', padId });
  return Lora.fromModules(model.config, lora, modules, c.seed);
}

/** A finished job: what its folder records, and how long it took (printed, not recorded). */
export interface TrainedAdapter {
  meta: AdapterMeta;
  timing: AdapterTiming;
}

export async function trainAdapterJob(job: AdapterJob, onProgress: (p: JobProgress) => void): Promise<TrainedAdapter> {
  const backend = await selectBackend(job.backend as never, { log: () => {} });
  const { model, tokenizer, modelId } = await loadCheckpoint(job.baseDir);
  try {
    if (tokenizer.padId === null) throw new QuiverInputError('the base tokenizer has no pad token; training batches need one', job.baseDir);
    const padId = tokenizer.padId;
    // quiver train checked every example fits before starting the jobs; checked again, as the files may have changed since.
    const all = new Map((await loadTaskSet(job.tasksDir, { check: fitsContext(tokenizer, model.config.maxPositionEmbeddings) })).map((t) => [t.name, t]));
    const c = job.config;
    const encode = (examples: readonly TaskExample[]) => examples.map((ex) => encodeExample(tokenizer, ex));
    const train: EncodedExample[] = [];
    const valid: EncodedExample[] = [];
    const tests = new Map<string, EncodedExample[]>();
    for (const name of job.tasks) {
      const t = all.get(name);
      if (!t) throw new QuiverInputError(`task "${name}" is not in the task folder`, job.tasksDir);
      train.push(...encode(t.splits.train));
      // Validation is capped per task so a cluster's early stopping weighs its tasks equally.
      valid.push(...encode(t.splits.valid.slice(0, c.evalExamples)));
      tests.set(name, encode(t.splits.test));
    }
    const stepsPerEpoch = Math.ceil(train.length / c.batchSize);
    const totalSteps = Math.max(1, Math.min(c.maxSteps, Math.round(c.epochs * stepsPerEpoch)));
    const lora = initialLora(model, train, c, padId);
    const trainer = new StepTrainer(model, lora, { totalSteps, lr: c.lr, warmupRatio: c.warmupRatio, gradClip: c.gradClip });
    try {
      const evalSize = 64;
      const validBatches = batchesOf(valid, evalSize, padId);
      const testBatches = new Map([...tests].map(([k, v]) => [k, batchesOf(v, evalSize, padId)]));
      // B starts at zero, so before the first step the LoRA is exactly the base model.
      const perTaskTest: Record<string, { baseLoss: number; loss: number }> = {};
      for (const [name, batches] of testBatches) perTaskTest[name] = { baseLoss: meanLoss(trainer, batches), loss: NaN };
      let best = meanLoss(trainer, validBatches);
      let bestModules: LoraModule[] = lora.modules();
      let sinceBest = 0;
      const rng = new Rng(c.seed + 1);
      let order: EncodedExample[] = [];
      let cursor = 0;
      let tokens = 0;
      const start = performance.now();
      let step = 0;
      let lastLoss = NaN;
      while (step < totalSteps) {
        if (cursor >= order.length) {
          order = shuffled(train, rng);
          cursor = 0;
        }
        const batch = promptAnswerBatch(order.slice(cursor, cursor + c.batchSize), padId);
        cursor += c.batchSize;
        lastLoss = trainer.trainStep(batch).loss;
        tokens += batch.batchSize * batch.seqLen;
        step++;
        if (step % c.evalEvery === 0 || step === totalSteps) {
          const v = meanLoss(trainer, validBatches);
          if (v < best) {
            best = v;
            bestModules = lora.modules();
            sinceBest = 0;
          } else sinceBest++;
          onProgress({ step, totalSteps, loss: lastLoss, validLoss: v });
          if (sinceBest >= c.patience) break;
        } else if (step % 10 === 0) onProgress({ step, totalSteps, loss: lastLoss });
      }
      const seconds = (performance.now() - start) / 1000;
      const bestLora = Lora.fromModules(model.config, { r: c.r, loraAlpha: c.loraAlpha, loraDropout: c.loraDropout }, bestModules, c.seed);
      const bestTrainer = new StepTrainer(model, bestLora, { totalSteps: 1 });
      let baseSum = 0;
      let sum = 0;
      try {
        for (const [name, batches] of testBatches) {
          perTaskTest[name]!.loss = meanLoss(bestTrainer, batches);
          baseSum += perTaskTest[name]!.baseLoss;
          sum += perTaskTest[name]!.loss;
        }
        const n = testBatches.size;
        const meta: AdapterMeta = {
          kind: job.kind,
          id: job.id,
          tasks: job.tasks,
          jobHash: job.jobHash,
          metrics: {
            baseTestLoss: baseSum / n,
            testLoss: sum / n,
            bestValidLoss: best,
            steps: step,
            backend: backend.name,
          },
          perTaskTest,
        };
        await writePeftAdapter(job.outDir, {
          ...bestLora.toPeftAdapter(modelId),
          extraFiles: { [ADAPTER_META_FILE]: JSON.stringify(meta, null, 2) + '\n' },
        });
        return { meta, timing: { tokensPerSecond: tokens / seconds, seconds } };
      } finally {
        bestTrainer.dispose();
        bestLora.dispose();
      }
    } finally {
      trainer.dispose();
      lora.dispose();
    }
  } finally {
    model.dispose();
  }
}
