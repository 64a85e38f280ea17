/**
 * The numbers behind quiver eval, checked against independent computations on a micro library:
 * exact match against one-prompt-at-a-time greedy decoding from the full logits, multiple choice
 * against option log-likelihoods summed by hand, the per-row LoRAX merge against mergeLoras,
 * μ of one adapter against that adapter, and routing accuracy against a direct per-prompt route.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateRequestRouting } from '../shared/arrow/request-routing.js';
import { arrowPrototype } from '../shared/arrow/prototype.js';
import { arrowLogits } from '../shared/arrow/arrow-logits.js';
import { siteWeights } from './helpers/site-weights.js';
import { decodeF16, encodeF16 } from '../shared/half.js';
import type { TaskExample } from '../shared/task-data.js';
import { runEvalJob, routingCounts } from '../build/eval/eval-job.js';
import { EvalLibrary } from '../build/eval/eval-library.js';
import { bestAdapter } from '../build/eval/family-oracle.js';
import { loadEvalTasks } from '../build/eval/eval-tasks.js';
import { greedyGenerate } from '../build/eval/greedy-generate.js';
import { privatePoolManifest, PromptRouter, type PromptRouting } from '../build/eval/prompt-routing.js';
import { runCompile } from '../build/commands/compile.js';
import { runRoute } from '../build/commands/route.js';
import { fixedAdapter, type RowAdapter } from '../build/eval/row-adapter.js';
import { RowMix } from '../build/eval/row-mix.js';
import { scoreTask } from '../build/eval/score-task.js';
import { selectBackend } from '../build/model/backend.js';
import type { AdapterDelta, LlamaModel } from '../build/model/llama.js';
import { mergeLoras } from '../build/model/lora.js';
import { groupLayout, groupOf, parseProjectionKey } from '../build/model/projections.js';
import { encodeExample, encodePrompt } from '../build/train/encode-examples.js';
import { buildMicroLibrary } from './helpers/micro-library.js';

let root = '';
let lib: EvalLibrary;
let libDir = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'quiver-eval-scoring-'));
  libDir = await buildMicroLibrary(root);
  await selectBackend('wasm', { log: () => {} });
  lib = await EvalLibrary.load(libDir, { topK: 4, temperature: 1, votes: 'site' });
}, 120_000);
afterAll(async () => {
  lib?.dispose();
  await rm(root, { recursive: true, force: true });
});

/** Logits of one unpadded sequence, [T][vocab]. */
function logitsOf(model: LlamaModel, ids: readonly number[], adapter: AdapterDelta | null): number[][] {
  const flat = tf.tidy(() => model.forward({ ids: Int32Array.from(ids), batchSize: 1, seqLen: ids.length }, { adapter }).logits.dataSync());
  const V = model.config.vocabSize;
  return Array.from({ length: ids.length }, (_, t) => Array.from(flat.subarray(t * V, (t + 1) * V)));
}

const argmax = (xs: readonly number[]) => xs.reduce((b, x, i) => (x > xs[b]! ? i : b), 0);
const logSoftmaxAt = (xs: readonly number[], i: number) => {
  const m = Math.max(...xs);
  return xs[i]! - m - Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** Greedy decoding one prompt at a time from the full logits: the reference for exact match. */
function referenceGenerate(model: LlamaModel, prompt: readonly number[], adapter: AdapterDelta | null, eos: number, max: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  while (out.length < max) {
    const next = argmax(logitsOf(model, seq, adapter).at(-1)!);
    if (next === eos) break;
    out.push(next);
    seq.push(next);
  }
  return out;
}

/** Σ log p(answer | prompt) by hand from one unpadded forward pass. */
function referenceLogLikelihood(model: LlamaModel, prompt: readonly number[], answer: readonly number[], adapter: AdapterDelta | null): number {
  const logits = logitsOf(model, [...prompt, ...answer], adapter);
  return answer.reduce((s, tok, j) => s + logSoftmaxAt(logits[prompt.length + j - 1]!, tok), 0);
}

describe('scoring', () => {
  it('exact match and multiple choice agree with hand-computed answers', () => {
    const { model, tokenizer } = lib;
    const lora = lib.privates.loras[0]!; // first-letter's adapter: a non-trivial model
    const words = ['apple', 'river', 'stone', 'cloud', 'tiger', 'maple'];
    // Generative: outputs set to the reference decoding for even examples, to something else for odd ones.
    const gen: TaskExample[] = words.map((w, i) => {
      const ref = tokenizer.decode(referenceGenerate(model, encodePrompt(tokenizer, `First of ${w}:`), lora, tokenizer.eosId!, 16));
      return { input: `First of ${w}:`, output: i % 2 === 0 ? ref : `${ref}#` };
    });
    const g = scoreTask(model, tokenizer, gen, fixedAdapter(lora), { maxNewTokens: 16, samples: 6 });
    expect(g.correct).toBe(3);
    expect(g.accuracy).toBe(0.5);
    expect(g.hits).toBe('101010'); // per example, in order
    expect(g.samples.map((s) => s.prediction)).toEqual(gen.map((ex, i) => (i % 2 === 0 ? ex.output : ex.output.slice(0, -1))));

    // Multiple choice: the option of highest Σ log p(option <eos>), by hand.
    const options = ['apple', 'sky', 'bee'];
    const mc: TaskExample[] = words.map((w, i) => {
      const prompt = encodePrompt(tokenizer, `Longer: ${w} or sky?`);
      const lls = options.map((o) => referenceLogLikelihood(model, prompt, encodeExample(tokenizer, { input: '', output: o }).answer, lora));
      const best = options[argmax(lls)]!;
      return { input: `Longer: ${w} or sky?`, output: i < 4 ? best : options.find((o) => o !== best)!, options };
    });
    const m = scoreTask(model, tokenizer, mc, fixedAdapter(lora), { maxNewTokens: 16, samples: 6 });
    expect(m.correct).toBe(4);
    expect(m.hits).toBe('111100');
    expect(m.samples.slice(0, 4).map((s) => s.prediction)).toEqual(mc.slice(0, 4).map((ex) => ex.output));

    // Loss: mean −log p over the reference answers' tokens.
    let nll = 0;
    let n = 0;
    for (const ex of mc) {
      const { prompt, answer } = encodeExample(tokenizer, ex);
      nll -= referenceLogLikelihood(model, prompt, answer, lora);
      n += answer.length;
    }
    expect(m.loss).toBeCloseTo(nll / n, 4);
    expect(m.answerTokens).toBe(n);
  });

  it('greedy decoding stops when every row has ended, dropping finished rows', () => {
    const { model, tokenizer } = lib;
    const prompts = ['First of apple:', 'Longer: sky or river?', 'first(stone) ='].map((s) => encodePrompt(tokenizer, s));
    // Rows end by <eos>, by `stop` or at 5 tokens; `stop` makes them end at different steps unless
    // a row says <eos> at once, so the first of these deltas that lets the rows differ is used.
    const stopAt = [1, 3, Infinity];
    const deltas: Array<AdapterDelta | null> = [null, ...lib.privates.loras];
    let checked = false;
    for (const delta of deltas) {
      const ref = prompts.map((p, i) => referenceGenerate(model, p, delta, tokenizer.eosId!, 5).slice(0, stopAt[i]));
      // Steps each row takes part in: an <eos> costs the step that produced it.
      const steps = ref.map((r, i) => (r.length === 5 || r.length === stopAt[i] ? r.length : r.length + 1));
      if (new Set(steps).size === 1) continue;
      const batches: number[][] = [];
      const counting: RowAdapter = (rows) => {
        batches.push([...rows]);
        return { delta, release: () => {} };
      };
      const out = greedyGenerate(model, prompts, { eosId: tokenizer.eosId, padId: tokenizer.padId!, maxNewTokens: 5, adapter: counting, stop: (i, ids) => ids.length >= stopAt[i]! });
      expect(out).toEqual(ref);
      expect(batches).toHaveLength(Math.max(...steps));
      batches.forEach((rows, step) => expect(rows).toEqual([0, 1, 2].filter((i) => step < steps[i]!)));
      checked = true;
      break;
    }
    expect(checked, 'every delta ends every row at the same step: the micro library cannot show rows leaving the batch').toBe(true);
  });

  it('μ of one adapter is that adapter; a per-row merge is LoRAX linear (mergeLoras) of that row', () => {
    const { model, tokenizer } = lib;
    const [a, b, c] = lib.privates.loras as [never, never, never];
    const examples: TaskExample[] = ['apple', 'river', 'queen'].map((w) => ({ input: `First of ${w}:`, output: w[0]! }));
    const one = mergeLoras([a], [1]);
    try {
      const direct = scoreTask(model, tokenizer, examples, fixedAdapter(a), { maxNewTokens: 16 });
      const mu = scoreTask(model, tokenizer, examples, fixedAdapter(one), { maxNewTokens: 16 });
      expect(mu.accuracy).toBe(direct.accuracy);
      expect(mu.samples).toEqual(direct.samples);
      expect(mu.loss).toBeCloseTo(direct.loss, 6);
    } finally {
      one.dispose();
    }

    const mix = new RowMix(model.config, lib.privates.experts);
    const weights = [
      [0.5, 0.3, 0.2],
      [0, 1, 0],
    ];
    const ids = encodePrompt(tokenizer, 'Longer: sky or river?');
    const batch = { ids: Int32Array.from([...ids, ...ids]), batchSize: 2, seqLen: ids.length };
    const delta = mix.forRows(Float32Array.from(weights.flat()), 2);
    try {
      const rows = tf.tidy(() => model.forward(batch, { adapter: delta }).logits.arraySync()) as number[][][];
      weights.forEach((w, row) => {
        const merged = mergeLoras([a, b, c], w);
        try {
          const ref = logitsOf(model, ids, merged);
          ref.forEach((v, t) => v.forEach((x, k) => expect(Math.abs(rows[row]![t]![k]! - x)).toBeLessThan(1e-4)));
        } finally {
          merged.dispose();
        }
      });
    } finally {
      delta.dispose();
      mix.dispose();
    }
  });
});

describe('family oracle pick', () => {
  it('takes the highest accuracy, then the lowest loss, then the first in library order', () => {
    expect(bestAdapter([{ adapter: 0, accuracy: 0.2, loss: 1 }, { adapter: 3, accuracy: 0.5, loss: 2 }, { adapter: 4, accuracy: 0.4, loss: 0.1 }]).adapter).toBe(3);
    expect(bestAdapter([{ adapter: 0, accuracy: 0.5, loss: 2 }, { adapter: 1, accuracy: 0.5, loss: 1.5 }]).adapter).toBe(1);
    expect(bestAdapter([{ adapter: 2, accuracy: 0, loss: 1 }, { adapter: 5, accuracy: 0, loss: 1 }]).adapter).toBe(2);
    expect(() => bestAdapter([])).toThrow(/at least one adapter/);
  });
});

describe('routing accuracy', () => {
  it('counts by hand: own adapter first, target family first, per layer', () => {
    const r = (best: number, layerBest: number[]): PromptRouting => ({ scores: [0, 0, 0], selected: best < 0 ? [] : [{ index: best, weight: 1 }], belowThreshold: best < 0, layerBest });
    const task = { name: 't', split: 'in-distribution' as const, family: 'x', targetFamily: 'x', ownAdapter: 1, familyAdapters: [1, 2], multipleChoice: false, examples: [], selection: { split: 'valid' as const, examples: [] } };
    const counts = routingCounts(task, [r(1, [1, 0]), r(2, [2, 1]), r(0, [1, 1]), r(1, [0, 2]), r(-1, [1, 1])], ['a', 'b', 'c'], ['y', 'x', 'x'], 'base-lm');
    expect(counts).toEqual({
      task: 't',
      examples: 5,
      ownFirst: 2,
      familyFirst: 3,
      perLayer: [
        { layer: 0, ownFirst: 3, familyFirst: 4 },
        { layer: 1, ownFirst: 3, familyFirst: 4 },
      ],
      // Under the threshold: the base model, neither own nor family.
      top1: { b: 2, a: 1, 'base-lm': 1, c: 1 },
    });
    const held = routingCounts({ ...task, ownAdapter: null }, [r(1, [1, 0])], ['a', 'b', 'c'], ['y', 'x', 'x'], 'base-lm');
    expect(held.ownFirst).toBeNull();
    expect(held.perLayer[0]!.ownFirst).toBeNull();
  });

  it('equals a direct route of each prompt on its own (base model, F16 prototypes scaled by the library\'s logit scales, its centres, arrowLogits, one vote per input site, aggregateRequestRouting)', async () => {
    const { model, tokenizer } = lib;
    const { tasks } = await loadEvalTasks(libDir, lib.index);
    const result = await runEvalJob({ libraryDir: libDir, tasks, systems: [], settings: { topK: 4, temperature: 1, votes: 'site', maxNewTokens: 16, samples: 0 } }, () => {}, lib);
    const E = lib.privates.experts.length;
    const keys = lib.privates.experts[0]!.modules.map((m) => m.key);
    const protos = new Map(
      keys.map((key) => {
        const dIn = groupLayout(model.config, groupOf(parseProjectionKey(key)!.name)).dIn;
        const p = new Float32Array(E * dIn);
        lib.privates.experts.forEach((e, i) => {
          const m = e.modules.find((x) => x.key === key)!;
          const sigma = lib.privateScales.get(key)![i]!; // checked against a hand computation in compile-command.test.ts
          p.set(arrowPrototype(m.a, m.b, e.r, dIn, m.b.length / e.r).vector.map((v) => v / sigma), i * dIn);
        });
        return [key, { dIn, p: decodeF16(encodeF16(p)) }];
      }),
    );
    const families = lib.index.tasks.map((t) => t.family);
    for (const task of tasks) {
      let own = 0;
      let fam = 0;
      for (const ex of task.examples) {
        const ids = encodePrompt(tokenizer, ex.input);
        const caps = tf.tidy(() => {
          const { captures } = model.forward({ ids: Int32Array.from(ids), batchSize: 1, seqLen: ids.length }, { captures: keys });
          return keys.map((k) => captures[k]!.dataSync() as Float32Array);
        });
        const logits = keys.map((k, j) => arrowLogits(caps[j]!, ids.length, protos.get(k)!.p, E, protos.get(k)!.dIn, lib.centres.get(k)));
        const perModule = siteWeights(keys, logits, ids.length, E, { topK: 4, temperature: 1 });
        const best = aggregateRequestRouting(perModule, ids.length, E, { topK: 1, threshold: 0 }).selected[0]!.index;
        if (best === task.ownAdapter) own++;
        if (families[best] === task.targetFamily) fam++;
      }
      const got = result.routing.find((r) => r.task === task.name)!;
      expect(got.examples).toBe(task.examples.length);
      expect(got.ownFirst).toBe(task.ownAdapter === null ? null : own);
      expect(got.familyFirst).toBe(fam);
    }
  });

  it("makes quiver route's decisions on the compiled private pool (runRoute, onnxruntime-node), prompt by prompt, with and without a fallback", async () => {
    const compiled = join(root, 'compiled-private');
    await runCompile(libDir, { out: compiled, pool: 'private', weights: 'f32', centre: true, scale: true, topK: 4, temperature: 1, threshold: 0, votes: 'site', quiet: true, backend: 'wasm' });
    // Centred routing on both sides: compile stores the centres eval computes (and they are not zero).
    expect(lib.centres.size).toBeGreaterThan(0);
    const { tasks } = await loadEvalTasks(libDir, lib.index); // the test splits and the held-out tasks
    const router = await lib.requestRouter();
    const ids = router.adapterIds;
    const inputs = tasks.flatMap((t) => t.examples.map((ex) => ex.input));
    expect(inputs.length).toBeGreaterThan(20);
    const got = await router.route(inputs);
    const check = async (evalRouting: PromptRouting[], threshold: number) => {
      let fellBack = 0;
      for (const [i, input] of inputs.entries()) {
        const want = await runRoute(compiled, input, { threshold }); // the manifest's top-k 4 and temperature 1, as eval's
        const mine = evalRouting[i]!;
        expect(mine.belowThreshold, input).toBe(want.belowThreshold);
        expect(mine.selected.map((s) => ids[s.index]), input).toEqual(want.selected.map((s) => s.id));
        mine.selected.forEach((s, j) => expect(s.weight).toBeCloseTo(want.selected[j]!.weight, 5));
        mine.scores.forEach((score, e) => expect(score).toBeCloseTo(want.scores[e]!.score, 5));
        if (want.belowThreshold) fellBack++;
      }
      return fellBack;
    };
    expect(await check(got, 0)).toBe(0);
    // A threshold between two best scores near the median sends about half of the prompts to the
    // base model, in both (halfway, so that rounding in either runtime cannot move a prompt across).
    const best = got.map((r) => Math.max(...r.scores)).sort((a, b) => a - b);
    const m = best.findIndex((b, i) => i >= best.length / 2 && b - best[i - 1]! > 1e-4);
    const threshold = (best[m - 1]! + best[m]!) / 2;
    const manifest = await privatePoolManifest(libDir, lib.index, { topK: 4, temperature: 1, threshold, votes: 'site' }, lib.centres, lib.privateScales);
    const withFallback = new PromptRouter(lib.model, lib.tokenizer, manifest);
    try {
      const fellBack = await check(await withFallback.route(inputs), threshold);
      expect(fellBack).toBeGreaterThan(0);
      expect(fellBack).toBeLessThan(inputs.length);
    } finally {
      withFallback.dispose();
    }
  }, 60_000);
});
