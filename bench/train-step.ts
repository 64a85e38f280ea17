/**
 * `npm run bench -- train-step`: one LoRA training step in the configuration docs/environment.md
 * ("TensorFlow.js") measures — a 2-layer model, d 128, 4 heads, LoRA rank 4 on q and v, batch
 * 16 × 32 — on tfjs-wasm, against the same step in PyTorch (bench/train-step-torch.py, one thread,
 * OpenBLAS) in the same run. (Not fixed there, chosen here: a 259-token byte vocabulary, MLP width
 * 512, random ids with a loss on all 31 next-token positions of each row.)
 *
 * PyTorch gets this model's own initial weights and batches. First both train a few steps without
 * dropout from those weights and their losses are compared, which shows the two compute the same
 * step; then they are timed in turns, `rounds` × `steps` each, and the figures are ratios
 * PyTorch ms / TensorFlow.js ms (1 = as fast as PyTorch): the median of the per-round ratios, and
 * the ratio of each side's fastest round. Times are the CPU time of each process (both run one
 * thread), which on a machine shared with other work counts less of what else ran than wall-clock
 * time does; the wall-clock ratio is printed beside it. Short rounds, many of them: the load of a
 * shared machine changes within seconds, and the fastest round is the least disturbed.
 * Without torch the PyTorch half is skipped with a message. QUIVER_BENCH_CPU_STEPS=n adds n steps
 * on the pure-JS cpu backend.
 *
 * A third timing in the same rounds bounds what any rewrite of the step could reach: the step's own
 * matmuls and attention convolutions (read from tf.profile of one step), replayed alone on fixed
 * operands. XNNPACK runs them at about 30 GFLOP/s on wasm's 128-bit SIMD without FMA, where
 * OpenBLAS reaches about 100 GFLOP/s with AVX-512 on the same matrices (docs/environment.md,
 * "TensorFlow.js"); a step that did nothing else would still take that long.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../build/model/backend.js';
import { llamaConfig } from '../build/model/config.js';
import { LlamaModel } from '../build/model/llama.js';
import { Lora } from '../build/model/lora.js';
import type { LoraConfigInput } from '../build/model/lora-config.js';
import { StepTrainer } from '../build/train/step-trainer.js';
import type { TrainBatch } from '../build/train/train-batch.js';
import { TrainConfig } from '../build/train/train-config.js';
import { Rng } from '../shared/random.js';
import { findTorchPython, startTorchReference, type StepTime, type TorchReference } from './torch-reference.js';

const config = llamaConfig({
  vocabSize: 259,
  hiddenSize: 128,
  intermediateSize: 512,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  maxPositionEmbeddings: 128,
});
const B = 16;
const T = 32;
const LORA: LoraConfigInput = { targetModules: ['q_proj', 'v_proj'] };
/** Long enough that the schedule never reaches 0 while timing. */
const TOTAL_STEPS = 10_000;
/** The equivalence check: steps, and a learning rate at which the losses move visibly. */
const CHECK = { steps: 6, lr: 1e-2 };

function randomBatch(rng: Rng): TrainBatch {
  const inputIds = new Int32Array(B * T);
  for (let i = 0; i < inputIds.length; i++) inputIds[i] = rng.int(256);
  return { batchSize: B, seqLen: T, inputIds, labels: inputIds.slice() };
}

const batches = (() => {
  const rng = new Rng(7);
  return Array.from({ length: 4 }, () => randomBatch(rng));
})();

/** A fresh model and LoRA, always the same initial weights. */
function fresh(lora: LoraConfigInput): { model: LlamaModel; lora: Lora; dispose: () => void } {
  const model = LlamaModel.random(config, 1);
  const adapter = Lora.init(config, lora, 1);
  return { model, lora: adapter, dispose: () => (adapter.dispose(), model.dispose()) };
}

/** spec.json, weights.bin and batches.bin for bench/train-step-torch.py. */
async function writeReferenceInputs(folder: string): Promise<void> {
  const { model, lora, dispose } = fresh(LORA);
  const r = lora.config.r;
  const loraTensors = lora.modules().flatMap((m) => {
    const dIn = m.a.length / r;
    const dOut = m.b.length / r;
    return [
      { name: `${m.key}.lora_A.weight`, shape: [r, dIn], data: m.a },
      { name: `${m.key}.lora_B.weight`, shape: [dOut, r], data: m.b },
    ];
  });
  const tensors = [...model.toHfTensors(), ...loraTensors];
  let offset = 0;
  const index = tensors.map((t) => {
    const entry = { name: t.name, shape: t.shape, offset };
    offset += t.data.length;
    return entry;
  });
  const flat = new Float32Array(offset);
  tensors.forEach((t, i) => flat.set(t.data, index[i]!.offset));
  const ids = new Int32Array(2 * batches.length * B * T);
  batches.forEach((b, i) => {
    ids.set(b.inputIds, i * B * T);
    ids.set(b.labels, (batches.length + i) * B * T);
  });
  const train = TrainConfig.parse({});
  const spec = {
    config,
    maxSeqLen: T,
    lora: { r, alpha: lora.config.loraAlpha, dropout: lora.config.loraDropout, modules: lora.modules().map((m) => m.key) },
    train: { lr: train.lr, warmupRatio: train.warmupRatio, gradClip: train.gradClip, totalSteps: TOTAL_STEPS },
    tensors: index,
    batches: { count: batches.length, batchSize: B, seqLen: T },
  };
  dispose();
  await writeFile(join(folder, 'spec.json'), JSON.stringify(spec));
  await writeFile(join(folder, 'weights.bin'), new Uint8Array(flat.buffer));
  await writeFile(join(folder, 'batches.bin'), new Uint8Array(ids.buffer));
}

/** The tfjs losses of the equivalence check: dropout off, the same schedule as the reference's. */
function tfjsCheckLosses(): number[] {
  const { model, lora, dispose } = fresh({ ...LORA, loraDropout: 0 });
  const trainer = new StepTrainer(model, lora, { totalSteps: CHECK.steps, lr: CHECK.lr });
  const losses = Array.from({ length: CHECK.steps }, (_, i) => trainer.trainStep(batches[i % batches.length]!).loss);
  trainer.dispose();
  dispose();
  return losses;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A timing run: `time(steps)` gives wall and CPU ms per step over that many more steps. */
function tfjsTimer(): { time: (steps: number) => StepTime; dispose: () => void } {
  const { model, lora, dispose } = fresh(LORA);
  const trainer = new StepTrainer(model, lora, { totalSteps: TOTAL_STEPS });
  let done = 0;
  return {
    time: (steps) => {
      const t0 = performance.now();
      const c0 = cpuMs();
      for (let i = 0; i < steps; i++) trainer.trainStep(batches[done++ % batches.length]!);
      return { ms: (performance.now() - t0) / steps, cpuMs: (cpuMs() - c0) / steps };
    },
    dispose: () => (trainer.dispose(), dispose()),
  };
}

/** The step's matmuls and depthwise convolutions alone, on fixed operands of the same shapes. */
async function matmulReplay(): Promise<{ time: (steps: number) => StepTime; kernels: string; dispose: () => void }> {
  const { model, lora, dispose } = fresh(LORA);
  const trainer = new StepTrainer(model, lora, { totalSteps: TOTAL_STEPS });
  trainer.trainStep(batches[0]!);
  const profile = await tf.profile(() => {
    trainer.trainStep(batches[1]!);
  });
  trainer.dispose();
  dispose();
  const picked = profile.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === 'DepthwiseConv2dNative');
  const operands = picked.map((k) => ({ conv: k.name !== 'BatchMatMul', inputs: k.inputShapes.map((shape) => tf.randomNormal(shape)) }));
  const run = (): void =>
    tf.tidy(() => {
      for (const { conv, inputs } of operands) {
        if (conv) tf.depthwiseConv2d(inputs[0] as tf.Tensor4D, inputs[1] as tf.Tensor4D, 1, 'valid');
        else tf.matMul(inputs[0] as tf.Tensor2D, inputs[1] as tf.Tensor2D);
      }
    });
  const convs = operands.filter((o) => o.conv).length;
  return {
    time: (steps) => {
      const t0 = performance.now();
      const c0 = cpuMs();
      for (let i = 0; i < steps; i++) run();
      return { ms: (performance.now() - t0) / steps, cpuMs: (cpuMs() - c0) / steps };
    },
    kernels: `${operands.length - convs} matmuls and ${convs} depthwise convolutions`,
    dispose: () => tf.dispose(operands.flatMap((o) => o.inputs)),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function startReference(): Promise<TorchReference | null> {
  const python = findTorchPython();
  if (python === null) {
    console.log('PyTorch: skipped — no python3 here imports torch (apt-get install python3-torch libopenblas0-pthread, or set QUIVER_BENCH_PYTHON)');
    return null;
  }
  const folder = await mkdtemp(join(tmpdir(), 'quiver-bench-torch-'));
  await writeReferenceInputs(folder);
  const ref = await startTorchReference(python, folder);
  await rm(folder, { recursive: true, force: true }); // read at start-up
  console.log(`PyTorch ${ref.info.torch} (${ref.python}), ${ref.info.threads} thread, BLAS: ${ref.info.blas}`);
  return ref;
}

async function cpuFigure(steps: number): Promise<void> {
  await selectBackend('cpu' satisfies BackendName, { log: () => undefined });
  const timer = tfjsTimer();
  timer.time(1);
  console.log(`tfjs cpu backend: ${timer.time(steps).cpuMs.toFixed(1)} ms/step (${steps} steps)`);
  timer.dispose();
}

export async function benchTrainStep(options: { rounds?: number; steps?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? Number(process.env.QUIVER_BENCH_ROUNDS ?? 15);
  const steps = options.steps ?? Number(process.env.QUIVER_BENCH_STEPS ?? 6);
  console.log(`LoRA step: ${config.numHiddenLayers} layers, d ${config.hiddenSize}, ${config.numAttentionHeads} heads, MLP ${config.intermediateSize}, vocab ${config.vocabSize}, batch ${B} × ${T}, r 4 on q,v`);
  const backend = await selectBackend('wasm', { log: () => undefined });
  console.log(`TensorFlow.js ${backend.description}`);
  const ref = await startReference();
  try {
    if (ref) {
      const mine = tfjsCheckLosses();
      const theirs = await ref.losses(CHECK.steps, CHECK.lr, 0);
      const worst = Math.max(...mine.map((l, i) => Math.abs(l - theirs[i]!)));
      console.log(`same step: ${CHECK.steps} losses without dropout, tfjs ${mine.map((l) => l.toFixed(4)).join(' ')}`);
      console.log(`                                    PyTorch ${theirs.map((l) => l.toFixed(4)).join(' ')}  (max |Δ| ${worst.toExponential(1)})`);
    }
    const timer = tfjsTimer();
    const replay = await matmulReplay();
    timer.time(3); // warm-up: kernels, XNNPACK operator caches, JIT
    replay.time(3);
    if (ref) await ref.time(3);
    const mine: StepTime[] = [];
    const theirs: StepTime[] = [];
    const floor: StepTime[] = [];
    for (let r = 0; r < rounds; r++) {
      mine.push(timer.time(steps));
      floor.push(replay.time(steps));
      if (ref) theirs.push(await ref.time(steps));
    }
    timer.dispose();
    replay.dispose();
    const tokens = (ms: number) => Math.round((B * T * 1000) / ms);
    const best = (times: StepTime[]): number => Math.min(...times.map((t) => t.cpuMs));
    const line = (name: string, times: StepTime[]): void => {
      const cpu = median(times.map((t) => t.cpuMs));
      const wall = median(times.map((t) => t.ms));
      console.log(`${name.padEnd(10)} ${cpu.toFixed(1).padStart(6)} ms/step CPU (fastest round ${best(times).toFixed(1)})  ${tokens(cpu).toString().padStart(6)} tokens/s  wall ${wall.toFixed(1)} ms`);
    };
    line('tfjs-wasm', mine);
    const share = median(floor.map((f, i) => f.cpuMs / mine[i]!.cpuMs));
    console.log(`  of which its ${replay.kernels} alone, replayed: ${median(floor.map((f) => f.cpuMs)).toFixed(1)} ms (${Math.round(100 * share)}% of the step)`);
    if (ref) {
      line('PyTorch', theirs);
      const ratio = (pick: (t: StepTime) => number) => median(theirs.map((t, i) => pick(t) / pick(mine[i]!)));
      console.log(
        `ratio PyTorch ms / tfjs ms: ${ratio((t) => t.cpuMs).toFixed(2)} (CPU time, median of ${rounds} rounds of ${steps} steps), ` +
          `${(best(theirs) / best(mine)).toFixed(2)} (fastest rounds), ${ratio((t) => t.ms).toFixed(2)} (wall); 1 = as fast as PyTorch`,
      );
      const ceiling = median(theirs.map((t, i) => t.cpuMs / floor[i]!.cpuMs));
      console.log(`ceiling: PyTorch's whole step / tfjs's matmuls and convolutions alone = ${ceiling.toFixed(2)}: no rewrite of the rest of the step gets past it`);
    }
  } finally {
    ref?.close();
  }
  const cpuSteps = Number(process.env.QUIVER_BENCH_CPU_STEPS ?? 0);
  if (cpuSteps > 0) await cpuFigure(cpuSteps);
}
