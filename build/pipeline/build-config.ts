/**
 * `quiver.config.json`: one file for the whole build (pretrain → train → compile → eval). Every
 * section is the schema of the command it drives, with that command's defaults — pretrain's
 * PretrainConfig, train's TrainConfig (plus its `mbcEpochs` and `k`), compile's and eval's options
 * with their defaults — so a default lives in one place and `{}` builds the default library.
 * Unknown keys are refused at every level. Paths are resolved against the folder of the config
 * file itself, wherever quiver is run from.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_ROUTING, RoutingDefaults } from '../../shared/manifest/schema.js';
import { COMPILE_DEFAULTS, POOLS } from '../commands/compile.js';
import { EVAL_DEFAULTS } from '../commands/eval.js';
import { WEIGHT_DTYPES } from '../onnx/llama-embedder.js';
import { PRETRAIN_PATHS } from '../commands/pretrain.js';
import { LIBRARY_DEFAULTS } from '../commands/train.js';
import { SYSTEM_IDS } from '../eval/eval-systems.js';
import { readJsonFile } from '../io/read-json-file.js';
import { PretrainConfig } from '../train/pretrain-config.js';
import { TrainConfig } from '../train/train-config.js';

export const BUILD_CONFIG_FILE = 'quiver.config.json';

const Path = z.string().min(1);

/** train's hyper-parameters (TrainConfig, one adapter's) and its library-level options. */
export const TrainSection = TrainConfig.extend({
  /** Passes over a cluster's union of training splits (quiver train --mbc-epochs). */
  mbcEpochs: z.number().positive().default(LIBRARY_DEFAULTS.mbcEpochs),
  /** MBC clusters (quiver train --k), capped at tasks − 1. */
  k: z.number().int().positive().default(LIBRARY_DEFAULTS.k),
});

/** quiver compile's options. */
export const CompileSection = z.strictObject({
  /** The compiled folder (replaced whole). Default: `<out>/compiled`. */
  out: Path.optional(),
  /** Adapters to route among: `private`, `mbc` or `all`. */
  pool: z.enum(POOLS).default(COMPILE_DEFAULTS.pool),
  /** Decoder layers the edge runs (default: up to the last routed layer). */
  layers: z.number().int().positive().optional(),
  /** ONNX weight storage: `f32` or `f16`. */
  weights: z.enum(WEIGHT_DTYPES).default(COMPILE_DEFAULTS.weights),
  /** Centred routing: the mean module input over the library's training prompts is stored and subtracted (quiver compile --no-centre: false). */
  centre: z.boolean().default(COMPILE_DEFAULTS.centre),
  /** Scaled prototypes: each divided by the spread of its logit over the library's training prompts (quiver compile --no-scale: false). */
  scale: z.boolean().default(COMPILE_DEFAULTS.scale),
  /** The manifest's routing defaults. */
  topK: RoutingDefaults.shape.topK.default(DEFAULT_ROUTING.topK),
  temperature: RoutingDefaults.shape.temperature.default(DEFAULT_ROUTING.temperature),
  threshold: RoutingDefaults.shape.threshold.default(DEFAULT_ROUTING.threshold),
  votes: RoutingDefaults.shape.votes.default(DEFAULT_ROUTING.votes),
});

/** quiver eval's options. */
export const EvalSection = z.strictObject({
  /** Where eval.json, report.html and eval.md go. Default: `<out>/eval`. */
  out: Path.optional(),
  /** suite.json naming held-out families (default: the task folder's, if any). */
  suite: Path.optional(),
  /** Score only the first n test examples of each task. */
  limit: z.number().int().positive().optional(),
  /** Arrow's top-k and temperature (compile's defaults, DEFAULT_ROUTING). */
  topK: RoutingDefaults.shape.topK.default(EVAL_DEFAULTS.topK),
  temperature: RoutingDefaults.shape.temperature.default(EVAL_DEFAULTS.temperature),
  /** How request-level routing counts votes (as the compiled manifest's). */
  votes: RoutingDefaults.shape.votes.default(EVAL_DEFAULTS.votes),
  /** Greedy generation stops at <eos> or after this many tokens. */
  maxNewTokens: z.number().int().positive().default(EVAL_DEFAULTS.maxNewTokens),
  /** Systems to score (default: all). */
  systems: z.array(z.enum(SYSTEM_IDS)).min(1).optional(),
});

export const BuildConfig = z.strictObject({
  /** Task folder: quiver train's tasks, whose training inputs pretraining also reads. */
  tasks: Path.default(LIBRARY_DEFAULTS.tasks),
  /** Held-out tasks quiver eval scores (default: heldout/ beside the suite's folder, if it exists). */
  heldout: Path.optional(),
  /** Pretraining corpus, one passage per line. */
  corpus: Path.default(PRETRAIN_PATHS.corpus),
  /** The library folder. */
  out: Path.default(LIBRARY_DEFAULTS.out),
  /** The base checkpoint: pretrained here, or an existing one when `pretrain` is null. Default: `<out>/base`. */
  base: Path.optional(),
  /** quiver pretrain's settings; null: no pretraining (`base` must then be a checkpoint). */
  pretrain: PretrainConfig.nullable().prefault({}),
  train: TrainSection.prefault({}),
  /** null: no compile stage. */
  compile: CompileSection.nullable().prefault({}),
  /** null: no eval stage. */
  eval: EvalSection.nullable().prefault({}),
});
export type BuildConfig = z.output<typeof BuildConfig>;

/** The config with every path absolute and every default filled in. */
export interface ResolvedBuildConfig {
  file: string;
  tasks: string;
  heldout: string | null;
  corpus: string;
  out: string;
  base: string;
  pretrain: PretrainConfig | null;
  train: { config: TrainConfig; mbcEpochs: number; k: number };
  compile: (Omit<z.output<typeof CompileSection>, 'out'> & { out: string }) | null;
  eval: (Omit<z.output<typeof EvalSection>, 'out' | 'suite'> & { out: string; suite: string | null }) | null;
  /** The parsed file, defaults filled in, paths as written: what build.json records. */
  parsed: BuildConfig;
}

export function resolveBuildConfig(parsed: BuildConfig, file: string): ResolvedBuildConfig {
  const at = (p: string) => resolve(dirname(resolve(file)), p);
  const out = at(parsed.out);
  const { mbcEpochs, k, ...config } = parsed.train;
  return {
    file: resolve(file),
    tasks: at(parsed.tasks),
    heldout: parsed.heldout === undefined ? null : at(parsed.heldout),
    corpus: at(parsed.corpus),
    out,
    base: parsed.base === undefined ? resolve(out, 'base') : at(parsed.base),
    pretrain: parsed.pretrain,
    train: { config, mbcEpochs, k },
    compile: parsed.compile && { ...parsed.compile, out: parsed.compile.out === undefined ? resolve(out, 'compiled') : at(parsed.compile.out) },
    eval: parsed.eval && {
      ...parsed.eval,
      out: parsed.eval.out === undefined ? resolve(out, 'eval') : at(parsed.eval.out),
      suite: parsed.eval.suite === undefined ? null : at(parsed.eval.suite),
    },
    parsed,
  };
}

export async function readBuildConfig(file: string): Promise<ResolvedBuildConfig> {
  const parsed = await readJsonFile(file, BuildConfig, { missing: `no build config: write one (see README, "quiver build") or pass --config` });
  return resolveBuildConfig(parsed, file);
}
