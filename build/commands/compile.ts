import { InvalidArgumentError, type Command } from 'commander';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { decodeManifest, encodeManifest, type Manifest } from '../../shared/manifest/manifest-codec.js';
import { MANIFEST_FILE, type RoutingDefaults } from '../../shared/manifest/schema.js';
import { COMPILED_FILES, EMBEDDER_FILE } from '../../shared/router/compiled-folder.js';
import { embedderOutputName } from '../../shared/router/embedder-outputs.js';
import { promptIds } from '../../shared/router/prompt-ids.js';
import { loadRouterTokenizer, ROUTER_TOKENIZER_CONFIG_FILE, ROUTER_TOKENIZER_FILE, tokenizerConfigFor } from '../../shared/router/router-tokenizer.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import { libraryInputCentres } from '../arrow/input-centres.js';
import { libraryLogitScales, scalePrototypes } from '../arrow/logit-scales.js';
import { libraryPrototypes, POOLS, type AdapterPool } from '../arrow/library-prototypes.js';
import { addManifestRoutingOptions, parsePositiveInt } from '../cli-options.js';
import { replaceDirAtomic } from '../io/atomic-write.js';
import { BACKEND_NAMES, selectBackend, type BackendName } from '../model/backend.js';
import { loadCheckpoint, TOKENIZER_FILE } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import { TfjsEmbedder } from '../model/tfjs-embedder.js';
import { EMBEDDER_IR_VERSION, EMBEDDER_OPSET, WEIGHT_DTYPES, writeLlamaEmbedder, type WeightDtype } from '../onnx/llama-embedder.js';
import { MAX_IR_VERSION, MAX_OPSET } from '../onnx/onnx-graph.js';
import { summarizeOnnxModel } from '../onnx/onnx-model-info.js';
import { createNodeEmbedder } from '../onnx/ort-node-embedder.js';
import { LIBRARY_FILE, readLibraryIndex } from '../io/library-index.js';
import { QUIVER_VERSION } from '../version.js';
import { parseBackend } from './pretrain.js';

export { POOLS, type AdapterPool } from '../arrow/library-prototypes.js';

/**
 * compile's defaults besides the manifest's routing (DEFAULT_ROUTING): the paper's Private+Arrow
 * pool, exact weights, centred routing (README, "Routing study": it doubles how often a held-out
 * task is routed to its family) and scaled prototypes (the same study: the own adapter first more
 * often, and no adapter taking a multiple of its share).
 */
export const COMPILE_DEFAULTS = { pool: 'private', weights: 'f32', centre: true, scale: true } as const satisfies { pool: AdapterPool; weights: WeightDtype; centre: boolean; scale: boolean };

/** What to compile, and the routing the manifest stores (addManifestRoutingOptions). */
export interface CompileOptions extends RoutingDefaults {
  out: string;
  layers?: number;
  /** The router's window in tokens (`model_max_length`); default and most: the base's context. */
  window?: number;
  pool: AdapterPool;
  weights: WeightDtype;
  /** Store the library's mean module inputs and route on inputs minus them (build/arrow/input-centres.ts). */
  centre: boolean;
  /** Store each prototype divided by the spread of its logit over the library's training prompts (build/arrow/logit-scales.ts). */
  scale: boolean;
  backend?: BackendName;
  quiet?: boolean;
}

export interface CompileSummary {
  outDir: string;
  adapters: { private: number; mbc: number };
  modules: number;
  layers: number;
  /** The manifest stores centres (centred routing). */
  centred: boolean;
  /** The prototypes are scaled (v / σ), not unit vectors. */
  scaled: boolean;
  /** Bytes of each file written, by name. */
  bytes: Record<string, number>;
  /** Largest |ONNX − TensorFlow.js| over the check prompt's Arrow logits, and the largest logit. */
  check: { tokens: number; maxAbsError: number; maxAbs: number };
  degenerate: Array<{ adapter: string; module: string }>;
}

/** Largest error the self-check accepts, relative to the largest logit: f32 is exact up to rounding, f16 and int8 weights are not (int8: 2.9% on the default library). */
const CHECK_TOLERANCE: Record<WeightDtype, number> = { f32: 1e-4, f16: 5e-2, int8: 1e-1 };
const CHECK_PROMPT = 'Quiver checks the ONNX embedder against the model on this prompt.';


/** Refuses to replace a folder that holds anything but a previous compile's files. */
async function checkOutDir(outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch(() => [] as string[]);
  const foreign = entries.filter((e) => !(COMPILED_FILES as readonly string[]).includes(e));
  if (foreign.length > 0) {
    throw new QuiverInputError(`holds other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); compile replaces its --out folder as a whole, so give it a folder of its own`, outDir);
  }
}

/**
 * Runs the check prompt through the ONNX embedder as the router does (OnnxEmbedder, the manifest's
 * F16 prototypes fed) and through the TensorFlow.js model (TfjsEmbedder: its captures and the
 * graph's |x · v| on the same prototypes), and compares their Arrow logits.
 */
async function selfCheck(onnx: Uint8Array, model: LlamaModel, manifest: Manifest, ids: number[], padId: number): Promise<CompileSummary['check']> {
  const { embedder, release } = await createNodeEmbedder(onnx, manifest, EMBEDDER_FILE);
  const reference = new TfjsEmbedder(model, manifest, { padId });
  try {
    const [got, want] = await Promise.all([embedder.run(ids), reference.run(ids)]);
    let maxAbsError = 0;
    let maxAbs = 0;
    for (const m of manifest.metadata.modules) {
      const have = got.get(m.key)!;
      const ref = want.get(m.key)!;
      for (let i = 0; i < ref.length; i++) {
        maxAbs = Math.max(maxAbs, ref[i]!);
        maxAbsError = Math.max(maxAbsError, Math.abs(ref[i]! - have[i]!));
      }
    }
    return { tokens: ids.length, maxAbsError, maxAbs };
  } finally {
    reference.dispose();
    await release();
  }
}

/** tokenizer.json as copied plus the tokenizer_config.json written must give the checkpoint's prompt ids. */
function checkRouterTokenizer(tokenizer: Tokenizer, tokenizerJson: string, tokenizerConfig: unknown, where: string): void {
  const routed = loadRouterTokenizer(JSON.parse(tokenizerJson), tokenizerConfig, where);
  const prompts = [CHECK_PROMPT, 'Up apple:', ''];
  for (const p of prompts) {
    if (promptIds(routed, p).join() !== promptIds(tokenizer, p).join()) {
      throw new Error(`the compiled tokenizer encodes ${JSON.stringify(p)} differently from the checkpoint's (bos ${routed.bosId} vs ${tokenizer.bosId})`);
    }
  }
}

/**
 * `quiver compile`: a trained library becomes what the edge runs — Arrow prototypes of the chosen
 * pool (libraryPrototypes: computeAdapterPrototypes, as import does), the base model's first layers as an ONNX
 * embedder, the tokenizer — in one folder written atomically. The embedder is checked against the
 * TensorFlow.js model on a prompt before anything is written.
 */
export async function runCompile(libraryArg: string, opts: CompileOptions): Promise<CompileSummary> {
  const libDir = resolve(libraryArg);
  const outDir = resolve(opts.out);
  await checkOutDir(outDir);
  const index = await readLibraryIndex(libDir);
  const log = opts.quiet ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
  await selectBackend(opts.backend, { log });
  const basePath = resolve(libDir, index.base);
  const base = await loadCheckpoint(basePath);
  try {
    const { config, model, tokenizer } = base;
    if (opts.layers !== undefined && opts.layers > config.numHiddenLayers) {
      throw new QuiverInputError(`--layers ${opts.layers} exceeds the base model's ${config.numHiddenLayers} layers`, basePath);
    }
    const { adapters, modules, prototypes: unit, degenerate, firstDir } = await libraryPrototypes(libDir, index, opts.pool, {
      layers: opts.layers ?? config.numHiddenLayers,
      quiet: opts.quiet,
    });
    for (const m of modules) {
      if (embedderOutputName(m.key) === null) throw new QuiverInputError(`routed module "${m.key}" is not a Llama projection the ONNX embedder can serve`, firstDir);
    }

    const centres = opts.centre ? await libraryInputCentres(libDir, index, model, tokenizer, modules.map((m) => m.key)) : undefined;
    const prototypes = opts.scale ? scalePrototypes(unit, await libraryLogitScales(libDir, index, model, tokenizer, unit, centres)) : unit;
    const weights = new Map(model.toHfTensors().map((t) => [t.name, t.data]));
    const onnxModel = writeLlamaEmbedder(config, (name) => weights.get(name)!, {
      modules: modules.map((m) => m.key),
      centred: centres ? [...centres.keys()] : [],
      weightDtype: opts.weights,
      baseModel: index.baseModel,
      producerVersion: QUIVER_VERSION,
    });
    weights.clear();
    const info = summarizeOnnxModel(onnxModel.bytes);
    if (info.irVersion > MAX_IR_VERSION || [...info.opsets].some(([domain, v]) => domain !== '' || v > MAX_OPSET)) {
      throw new Error(`the ONNX writer produced IR ${info.irVersion} with opsets ${JSON.stringify([...info.opsets])}; expected IR ${EMBEDDER_IR_VERSION}, opset ${EMBEDDER_OPSET}`);
    }
    const tokenizerJson = await readFile(join(basePath, TOKENIZER_FILE), 'utf8');
    if (opts.window !== undefined && opts.window > config.maxPositionEmbeddings) {
      throw new QuiverInputError(`--window ${opts.window} exceeds the base model's context of ${config.maxPositionEmbeddings} tokens`, basePath);
    }
    const tokenizerConfig = tokenizerConfigFor(tokenizer, opts.window ?? config.maxPositionEmbeddings);
    checkRouterTokenizer(tokenizer, tokenizerJson, tokenizerConfig, join(basePath, TOKENIZER_FILE));

    const routing: RoutingDefaults = { topK: opts.topK, temperature: opts.temperature, threshold: opts.threshold, votes: opts.votes };
    const embedder = { path: EMBEDDER_FILE, sha256: createHash('sha256').update(onnxModel.bytes).digest('hex'), layers: onnxModel.layers };
    const manifest = await encodeManifest({ baseModel: index.baseModel, embedder, modules, adapters, routing, prototypes, centres });

    // Check the pair as the edge will read it: the decoded manifest (F16 prototypes) feeding the ONNX file.
    const checkIds = promptIds(tokenizer, CHECK_PROMPT).slice(0, config.maxPositionEmbeddings);
    const check = await selfCheck(onnxModel.bytes, model, await decodeManifest(manifest), checkIds, tokenizer.padId ?? 0);
    if (!(check.maxAbsError <= CHECK_TOLERANCE[opts.weights] * Math.max(1, check.maxAbs))) {
      throw new Error(`the ONNX embedder disagrees with the model: max |error| ${check.maxAbsError} on Arrow logits up to ${check.maxAbs} (${opts.weights} weights)`);
    }
    const files: Array<[string, Uint8Array | string]> = [
      [MANIFEST_FILE, manifest],
      [EMBEDDER_FILE, onnxModel.bytes],
      [ROUTER_TOKENIZER_FILE, tokenizerJson],
      [ROUTER_TOKENIZER_CONFIG_FILE, JSON.stringify(tokenizerConfig, null, 2) + '\n'],
    ];
    await replaceDirAtomic(outDir, async (tmp) => {
      for (const [name, data] of files) await writeFile(join(tmp, name), data);
    });
    return {
      outDir,
      adapters: { private: adapters.filter((a) => a.kind === 'private').length, mbc: adapters.filter((a) => a.kind === 'mbc').length },
      modules: modules.length,
      layers: onnxModel.layers,
      centred: centres !== undefined,
      scaled: opts.scale,
      bytes: Object.fromEntries(files.map(([name, data]) => [name, typeof data === 'string' ? Buffer.byteLength(data) : data.length])),
      check,
      degenerate,
    };
  } finally {
    base.model.dispose();
  }
}

function parsePool(value: string): AdapterPool {
  if (!(POOLS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${POOLS.join(', ')}.`);
  return value as AdapterPool;
}

function parseWeightDtype(value: string): WeightDtype {
  if (!(WEIGHT_DTYPES as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${WEIGHT_DTYPES.join(', ')}.`);
  return value as WeightDtype;
}

export function formatCompileSummary(s: CompileSummary): string {
  const width = Math.max(...Object.keys(s.bytes).map((n) => n.length));
  return [
    `wrote ${s.outDir}`,
    `  adapters  ${s.adapters.private + s.adapters.mbc} (${s.adapters.private} private, ${s.adapters.mbc} MBC)`,
    `  modules   ${s.modules} routed, embedder runs ${s.layers} layer(s), ${s.centred ? 'centred on the library\'s mean module inputs' : 'raw inputs (--no-centre)'}, ${s.scaled ? 'prototypes scaled by their logits\' spread' : 'unit prototypes (--no-scale)'}`,
    ...Object.entries(s.bytes).map(([name, n]) => `  ${name.padEnd(width)}  ${n.toLocaleString('en-US')} bytes`),
    `  check     ONNX vs TensorFlow.js on ${s.check.tokens} tokens: Arrow logits max |error| ${s.check.maxAbsError.toExponential(1)} (logits up to ${s.check.maxAbs.toFixed(2)})`,
  ].join('\n');
}

export function registerCompileCommand(program: Command): void {
  const command = program
    .command('compile')
    .description(
      'Compile a trained library for the edge: Arrow prototypes of its adapters (manifest.safetensors), the base model\'s first layers as an ONNX embedder ' +
        '(embedder.onnx), and the tokenizer, in one folder written atomically.',
    )
    .argument('<library>', `a library folder (with ${LIBRARY_FILE}) written by quiver train`)
    .requiredOption('-o, --out <dir>', 'output folder (replaced as a whole; it must hold nothing else)')
    .option('--layers <L>', 'run only the first L decoder layers at the edge; prototypes of later layers are left out (default: up to the last routed layer)', parsePositiveInt)
    .option('--window <tokens>', 'route a longer prompt on its first <tokens> ids: a cheaper edge (npm run bench:edge measures what it costs in routing agreement) (default: the base model\'s context)', parsePositiveInt)
    .option('--pool <pool>', 'adapters to route among: private (one per task, the paper\'s Private+Arrow), mbc (one per cluster) or all', parsePool, COMPILE_DEFAULTS.pool as AdapterPool)
    .option('--weights <dtype>', 'ONNX weight storage: f32 (exact), f16 (half the bytes, cast to f32 when loaded) or int8 (a quarter of the bytes, quantized GEMMs: about half the forward time on wasm)', parseWeightDtype, COMPILE_DEFAULTS.weights as WeightDtype)
    .option('--no-centre', 'route on the raw module inputs, not on inputs minus the library\'s mean input (centred routing, the default)')
    .option('--no-scale', 'store unit prototypes (the paper\'s), not each divided by the spread of its logit over the library\'s training prompts (scaled prototypes, the default)');
  addManifestRoutingOptions(command)
    .option('--backend <name>', `TensorFlow.js backend for the check against the model (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .option('-q, --quiet', 'no progress lines')
    .action(async (library: string, opts: CompileOptions) => {
      const s = await runCompile(library, opts);
      for (const d of s.degenerate) process.stderr.write(`warning: adapter "${d.adapter}" module ${d.module} has B·A = 0 (untrained?); its prototype is arbitrary\n`);
      process.stdout.write(formatCompileSummary(s) + '\n');
    });
}
