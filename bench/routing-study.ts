/**
 * `npm run study:routing`: how well request-level Arrow tells tasks apart, per way of training the
 * adapters and per way of scoring them — the study behind the default `--init` (README, "Routing
 * study"). For each training variant it trains the private adapters of the default suite on the
 * default base (privates only, no MBC; resumable: a rerun reuses finished adapters), then routes
 * every in-distribution and held-out test prompt through routeRequest (the pipeline `quiver route`,
 * eval and the edge run) with each scoring variant, and prints one table:
 *
 *   own first     in-distribution prompts whose top adapter is the task's own
 *   family first  prompts whose top adapter is of the task's target family (held-out: the
 *                 suite's related family)
 *   max share     the most-chosen adapter's share of all prompts, over the fair share 1/adapters
 *   test loss     the private adapters' mean answer loss on their test splits (the library's
 *                 quality: a routing gain must not hide a worse library)
 *
 * Scoring variants (nothing but the weights and the base at routing time, except `centroid`):
 *   arrow          paper Arrow: |x · v|, v the top right singular vector of each module's B·A
 *   arrow-centred  the same on x − μ, μ the mean module input over the suite's training prompts
 *                  (build/arrow/input-centres.ts)
 *   arrow-scaled   paper Arrow with each prototype divided by the spread of its logit over the
 *                  suite's training prompts (build/arrow/logit-scales.ts)
 *   arrow-centred-scaled  both (what quiver compile stores by default)
 *   mean-sub       prototypes of B·A minus the library's mean B·A per module (GenKnowSub's
 *                  subtraction of general knowledge, with the library mean standing in for a
 *                  general-text adapter): weights only, as `quiver import` can compute it
 *   mean-sub-centred  the same on centred inputs
 *   centroid       data, not weights: v = the task's mean module input minus μ, on centred
 *                  inputs (a data-based reference)
 *
 * Training variants: kaiming, kaiming-seeds, kaiming-long, eva (the default), eva-long, eva-centred
 * (TRAINING below).
 *
 * Votes (shared/arrow/input-site-votes.ts): `site`, what quiver route, eval and the edge count (q, k
 * and v of a layer read one input and vote once, with the largest of their logits), and `module`,
 * one vote per routed module (the rule before).
 *
 * Options: --out <dir> (default /tmp/quiver-routing-study), --variants <list>, --scorings <list>,
 * --votes <list> (default site,module), --limit <n> (prompts per task, default 50), --top-k <k>
 * (adapters kept per token, default eval's 4), -j <n> (default 2), --base, --tasks, --max-steps <n>
 * (a quick look: cap every adapter's steps).
 */
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import { argmax } from '../shared/arrow/top-k.js';
import { sha256Text } from '../build/io/file-hash.js';
import { openPeftAdapter } from '../build/io/peft-adapter.js';
import { LibraryIndex } from '../build/io/library-index.js';
import { selectBackend } from '../build/model/backend.js';
import { loadCheckpoint } from '../build/model/checkpoint.js';
import { inputCentres, libraryInputCentres, trainingPrompts } from '../build/arrow/input-centres.js';
import { libraryLogitScales, scalePrototypes } from '../build/arrow/logit-scales.js';
import { topRightSingularVectors } from '../build/train/eva-init.js';
import { EVAL_DEFAULTS } from '../build/commands/eval.js';
import { loadEvalTasks, type EvalTask } from '../build/eval/eval-tasks.js';
import { PromptRouter, privatePoolManifest } from '../build/eval/prompt-routing.js';
import type { VoteUnit } from '../shared/arrow/input-site-votes.js';
import { baseCheckpointHash, privateJobs, taskDataHash } from '../build/train/plan.js';
import { runAdapterJobs } from '../build/train/run-jobs.js';
import { loadTaskSet } from '../build/train/task-set.js';
import { TrainConfig } from '../build/train/train-config.js';
import type { Manifest } from '../shared/manifest/manifest-codec.js';

/** Training variants: the TrainConfig each one changes from the defaults, and whether each task gets its own seed. */
const TRAINING: Record<string, { config: z.input<typeof TrainConfig>; seedPerTask?: boolean; note: string }> = {
  kaiming: { config: { init: 'kaiming' }, note: 'PEFT default A, seed 0 for every task' },
  'kaiming-seeds': { config: { init: 'kaiming' }, seedPerTask: true, note: 'PEFT default A, its own seed per task' },
  'kaiming-long': { config: { init: 'kaiming', epochs: 9 }, note: 'PEFT default A, 3× the epochs' },
  eva: { config: { init: 'eva' }, note: 'A = top-r right singular vectors of the task\'s module inputs' },
  'eva-long': { config: { init: 'eva', epochs: 9 }, note: 'the EVA start, 3× the epochs' },
  'eva-centred': { config: { init: 'eva-centred' }, note: 'the same, the task\'s mean input removed first' },
};
const SCORING = ['arrow', 'arrow-centred', 'arrow-scaled', 'arrow-centred-scaled', 'mean-sub', 'mean-sub-centred', 'centroid'] as const;
type Scoring = (typeof SCORING)[number];

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Prototypes of ΔW_i − mean_j ΔW_j per module (ΔW = (α/r)·B·A), rows in library order. */
async function meanSubtractedPrototypes(dirs: readonly string[], manifest: Manifest): Promise<Map<string, Float32Array>> {
  const deltas = new Map<string, Float64Array[]>();
  const shapes = new Map<string, { dOut: number; dIn: number }>();
  for (const dir of dirs) {
    const h = await openPeftAdapter(dir);
    try {
      const scale = h.config.lora_alpha / h.config.r;
      for (const m of manifest.metadata.modules) {
        const ref = h.modules.find((x) => x.key === m.key)!;
        const { a, b } = await h.readModule(m.key);
        const r = ref.r;
        const dIn = m.dIn;
        const dOut = b.length / r;
        const w = new Float64Array(dOut * dIn);
        for (let o = 0; o < dOut; o++) for (let k = 0; k < r; k++) {
          const bok = scale * b[o * r + k]!;
          for (let i = 0; i < dIn; i++) w[o * dIn + i]! += bok * a[k * dIn + i]!;
        }
        deltas.set(m.key, [...(deltas.get(m.key) ?? []), w]);
        shapes.set(m.key, { dOut, dIn });
      }
    } finally {
      await h.close();
    }
  }
  const out = new Map<string, Float32Array>();
  for (const [key, ws] of deltas) {
    const { dOut, dIn } = shapes.get(key)!;
    const mean = new Float64Array(dOut * dIn);
    for (const w of ws) for (let i = 0; i < w.length; i++) mean[i]! += w[i]! / ws.length;
    const protos = new Float32Array(ws.length * dIn);
    ws.forEach((w, e) => {
      // The top right singular vector of ΔW_i − mean ΔW: the rows' top Gram eigenvector, as the EVA init computes it (its sign is irrelevant under |x · v|).
      protos.set(topRightSingularVectors(Float32Array.from(w, (x, i) => x - mean[i]!), dOut, dIn, 1, false), e * dIn);
    });
    out.set(key, protos);
  }
  return out;
}

interface Row {
  training: string;
  scoring: Scoring;
  votes: VoteUnit;
  ownFirst: number;
  familyFirstIn: number;
  familyFirstHeld: number;
  maxShare: number;
  testLoss: number;
}

async function routeAll(router: PromptRouter, tasks: readonly EvalTask[], adapters: number): Promise<Omit<Row, 'training' | 'scoring' | 'votes' | 'testLoss'>> {
  let own = 0;
  let inN = 0;
  let famIn = 0;
  let famHeld = 0;
  let heldN = 0;
  const counts = new Array<number>(adapters).fill(0);
  for (const t of tasks) {
    const routed = await router.route(t.examples.map((x) => x.input));
    for (const r of routed) {
      const top = argmax(r.scores);
      counts[top]!++;
      const fam = t.familyAdapters.includes(top) ? 1 : 0;
      if (t.split === 'in-distribution') {
        inN++;
        own += top === t.ownAdapter ? 1 : 0;
        famIn += fam;
      } else {
        heldN++;
        famHeld += fam;
      }
    }
  }
  const total = counts.reduce((s, c) => s + c, 0);
  return { ownFirst: own / inN, familyFirstIn: famIn / inN, familyFirstHeld: heldN === 0 ? NaN : famHeld / heldN, maxShare: (Math.max(...counts) / total) * adapters };
}

async function main(): Promise<void> {
  const out = resolve(option('--out', '/tmp/quiver-routing-study'));
  const baseDir = resolve(option('--base', 'library/base'));
  const tasksDir = resolve(option('--tasks', 'data/tasks'));
  const limit = Number(option('--limit', '50'));
  const topK = Number(option('--top-k', String(EVAL_DEFAULTS.topK)));
  const jobs = Number(option('-j', '2'));
  const maxSteps = process.argv.includes('--max-steps') ? Number(option('--max-steps', '')) : undefined;
  const variants = option('--variants', Object.keys(TRAINING).join(',')).split(',');
  const voteUnits = option('--votes', 'site,module').split(',') as VoteUnit[];
  for (const v of voteUnits) if (v !== 'site' && v !== 'module') throw new Error(`unknown --votes "${v}"; known: site, module`);
  const scorings = option('--scorings', SCORING.join(',')).split(',') as Scoring[];
  for (const s of scorings) if (!SCORING.includes(s)) throw new Error(`unknown scoring "${s}"; known: ${SCORING.join(', ')}`);
  for (const v of variants) if (!TRAINING[v]) throw new Error(`unknown training variant "${v}"; known: ${Object.keys(TRAINING).join(', ')}`);
  await selectBackend('wasm', { log: () => {} });
  const tasks = await loadTaskSet(tasksDir);
  const baseHash = await baseCheckpointHash(baseDir);
  const dataHashes = new Map(tasks.map((t) => [t.name, taskDataHash(t)]));
  const { model, tokenizer, modelId } = await loadCheckpoint(baseDir);
  const rows: Row[] = [];
  let centroidDone = false;
  for (const variant of variants) {
    const spec = TRAINING[variant]!;
    const libDir = join(out, variant);
    const config = TrainConfig.parse({ ...spec.config, ...(maxSteps ? { maxSteps } : {}) });
    let planned = privateJobs({ baseDir, tasksDir, outDir: libDir, config, baseHash, dataHashes }, tasks);
    if (spec.seedPerTask) {
      planned = planned.map((j, i) => {
        const c = { ...j.config, seed: i + 1 };
        return { ...j, config: c, jobHash: sha256Text(`${j.jobHash}:seed=${c.seed}`) };
      });
    }
    process.stderr.write(`[${variant}] training ${planned.length} private adapters (${spec.note})\n`);
    const { metas } = await runAdapterJobs(planned, { label: variant, concurrency: jobs, quiet: true });
    const index = LibraryIndex.parse({
      format: 'quiver.library',
      version: 1,
      base: baseDir,
      baseModel: modelId,
      tasksDir,
      config,
      mbcConfig: config,
      tasks: tasks.map((t) => ({ name: t.name, family: t.family, adapter: join('private', t.name), cluster: null, metrics: metas.get(t.name)!.metrics })),
      clusters: [],
    });
    const testLoss = tasks.reduce((s, t) => s + metas.get(t.name)!.metrics.testLoss, 0) / tasks.length;
    const raw = await privatePoolManifest(libDir, index, { topK, temperature: EVAL_DEFAULTS.temperature, threshold: 0, votes: 'site' });
    const { tasks: evalTasks } = await loadEvalTasks(libDir, index, { limit });
    const keys = raw.metadata.modules.map((m) => m.key);
    // The centres quiver compile stores (build/arrow/input-centres.ts), and each task's own mean input for the centroid reference.
    const centres = await libraryInputCentres(libDir, index, model, tokenizer, keys);
    const adapters = raw.metadata.adapters.length;
    const score = async (scoring: Scoring, m: Manifest | (() => Promise<Manifest>)) => {
      if (!scorings.includes(scoring)) return;
      const manifest = typeof m === 'function' ? await m() : m;
      for (const votes of voteUnits) {
        const router = new PromptRouter(model, tokenizer, { ...manifest, metadata: { ...manifest.metadata, routing: { ...manifest.metadata.routing, votes } } });
        try {
          const r = await routeAll(router, evalTasks, adapters);
          rows.push({ training: scoring === 'centroid' ? '(data)' : variant, scoring, votes, testLoss: scoring === 'centroid' ? NaN : testLoss, ...r });
          const last = rows[rows.length - 1]!;
          process.stderr.write(`[${last.training}] ${scoring}, votes per ${votes}: own ${(100 * last.ownFirst).toFixed(1)}%, family ${(100 * last.familyFirstIn).toFixed(1)}% / held-out ${(100 * last.familyFirstHeld).toFixed(1)}%\n`);
        } finally {
          router.dispose();
        }
      }
    };
    const dirs = tasks.map((t) => join(libDir, 'private', t.name));
    const meanSub = () => meanSubtractedPrototypes(dirs, raw);
    await score('arrow', raw);
    await score('arrow-centred', { ...raw, centres });
    // The logit scales quiver compile applies (build/arrow/logit-scales.ts), measured on the raw or the centred logits.
    const scaled = async (c?: ReadonlyMap<string, Float32Array>) => scalePrototypes(raw.prototypes, await libraryLogitScales(libDir, index, model, tokenizer, raw.prototypes, c));
    await score('arrow-scaled', async () => ({ ...raw, prototypes: await scaled() }));
    await score('arrow-centred-scaled', async () => ({ ...raw, prototypes: await scaled(centres), centres }));
    await score('mean-sub', async () => ({ ...raw, prototypes: await meanSub() }));
    await score('mean-sub-centred', async () => ({ ...raw, prototypes: await meanSub(), centres }));
    if (!centroidDone && scorings.includes('centroid')) {
      centroidDone = true;
      const protos = new Map(keys.map((key) => [key, new Float32Array(adapters * centres.get(key)!.length)]));
      tasks.forEach((t, e) => {
        const own = inputCentres(model, [trainingPrompts(tokenizer, t.splits.train.map((x) => x.input))], keys, tokenizer.padId ?? 0);
        for (const key of keys) {
          const mu = centres.get(key)!;
          const c = Float32Array.from(own.get(key)!, (x, d) => x - mu[d]!);
          const norm = Math.hypot(...c) || 1;
          protos.get(key)!.set(c.map((x) => x / norm), e * mu.length);
        }
      });
      await score('centroid', { ...raw, prototypes: protos, centres });
    }
  }
  model.dispose();
  const pct = (x: number) => (Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);
  console.log(`\nRouting study: ${tasks.length} tasks, ${limit} test prompts per task, top-k ${topK} per token, base ${modelId}\n`);
  console.log('| training | scoring | votes per | own first | family first | held-out family first | max share (× fair) | test loss |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.training} | ${r.scoring} | ${r.votes} | ${pct(r.ownFirst)} | ${pct(r.familyFirstIn)} | ${pct(r.familyFirstHeld)} | ${r.maxShare.toFixed(2)} | ${Number.isNaN(r.testLoss) ? '—' : r.testLoss.toFixed(3)} |`);
  }
}

await main();
