/**
 * Times one LoRA training step in the configuration docs/environment.md ("TensorFlow.js") measures — a 2-layer model, d 128,
 * 4 heads, LoRA rank 4 on q and v, batch 16 × 32 — on the wasm and cpu backends in one process.
 * (Not fixed there, chosen here: a 259-token byte vocabulary, MLP width 512, loss on all 31
 * next-token positions of each row.) Run: node dist/bench/train-step.js [wasmSteps] [cpuSteps]
 */
import { selectBackend, type BackendName } from '../build/model/backend.js';
import { llamaConfig } from '../build/model/config.js';
import { LlamaModel } from '../build/model/llama.js';
import { Lora } from '../build/model/lora.js';
import { StepTrainer } from '../build/train/step-trainer.js';
import type { TrainBatch } from '../build/train/train-batch.js';
import { Rng } from '../shared/random.js';

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

function randomBatch(rng: Rng): TrainBatch {
  const inputIds = new Int32Array(B * T);
  for (let i = 0; i < inputIds.length; i++) inputIds[i] = rng.int(256);
  return { batchSize: B, seqLen: T, inputIds, labels: inputIds.slice() };
}

async function time(backend: BackendName, steps: number): Promise<number> {
  await selectBackend(backend);
  const model = LlamaModel.random(config, 1);
  const lora = Lora.init(config, { targetModules: ['q_proj', 'v_proj'] }, 1);
  const trainer = new StepTrainer(model, lora, { totalSteps: 10_000 });
  const rng = new Rng(7);
  const batches = Array.from({ length: 4 }, () => randomBatch(rng));
  for (let i = 0; i < 3; i++) trainer.trainStep(batches[i % 4]!); // warm up: kernels, caches, JIT
  const t0 = performance.now();
  let loss = 0;
  for (let i = 0; i < steps; i++) loss = trainer.trainStep(batches[i % 4]!).loss;
  const seconds = (performance.now() - t0) / 1000;
  const perSec = steps / seconds;
  console.log(`${backend.padEnd(5)} ${perSec.toFixed(2).padStart(7)} steps/s  ${((1000 * seconds) / steps).toFixed(1).padStart(7)} ms/step  ${Math.round(perSec * B * T).toString().padStart(6)} tokens/s  (loss ${loss.toFixed(3)}, ${steps} steps)`);
  trainer.dispose();
  lora.dispose();
  model.dispose();
  return perSec;
}

const wasmSteps = Number(process.argv[2] ?? 40);
const cpuSteps = Number(process.argv[3] ?? 4);
console.log(`LoRA step: ${config.numHiddenLayers} layers, d ${config.hiddenSize}, ${config.numAttentionHeads} heads, MLP ${config.intermediateSize}, vocab ${config.vocabSize}, batch ${B} × ${T}, r 4 on q,v`);
const wasm = await time('wasm', wasmSteps);
if (cpuSteps > 0) {
  const cpu = await time('cpu', cpuSteps);
  console.log(`wasm / cpu: ${(wasm / cpu).toFixed(1)}×`);
}
