/**
 * A Hugging Face checkpoint folder (docs/interfaces.md): `config.json`, `model.safetensors` (or shards
 * listed in `model.safetensors.index.json`) with F32/F16/BF16 weights, `tokenizer.json`, and
 * optionally `tokenizer_config.json` (saving writes one, with the chat template: chat-template.ts). A
 * SmolLM-135M download loads as is; what Quiver saves, vLLM, LoRAX and transformers load.
 * Saving builds the folder under a temporary name and renames it into place.
 */
import { stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { QuiverInputError } from '../../shared/errors.js';
import { serializeSafetensors, type SafetensorsFile } from '../../shared/safetensors.js';
import { loadTokenizerJson } from '../../shared/tokenizer/load-tokenizer-json.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import { replaceDirAtomic } from '../io/atomic-write.js';
import { readJsonFile } from '../io/read-json-file.js';
import { readSafetensorsFile } from '../io/safetensors-file.js';
import { checkpointTokenizerConfig } from './chat-template.js';
import { parseHfConfig, toHfConfig, type LlamaConfig } from './config.js';
import { hfTensorShapes, LlamaModel, type ModelOptions } from './llama.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

export interface LoadedCheckpoint {
  model: LlamaModel;
  config: LlamaConfig;
  tokenizer: Tokenizer;
  /** config.json as read: saving passes it on, so keys Quiver does not model survive. */
  hfConfig: Record<string, unknown>;
  /** tokenizer_config.json as read (its chat_template, special tokens), or null when the folder has none. */
  tokenizerConfig: unknown;
  /** checkpointModelId: what adapters of this base name as their base model. */
  modelId: string;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

const JsonObject = z.record(z.string(), z.unknown());
const WeightsIndex = z.looseObject({ weight_map: z.record(z.string(), z.string()) });

function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  return readJsonFile(path, JsonObject, { missing: `missing ${what}: a checkpoint folder holds ${CONFIG_FILE}, ${WEIGHTS_FILE} and ${TOKENIZER_FILE}` });
}

/**
 * The id adapters name as `base_model_name_or_path`, and library.json as `baseModel`: config.json's
 * `_name_or_path` (quiver pretrain writes it; downloads carry it), else the checkpoint folder's name.
 * Derived here only, so quiver train, its workers and quiver compile agree.
 */
export function checkpointModelId(hfConfig: Record<string, unknown>, dir: string): string {
  const id = hfConfig._name_or_path;
  return typeof id === 'string' && id.length > 0 ? id : basename(resolve(dir));
}

/** Tensor name → the file holding it (one file, or the shards of an index). */
async function openWeights(dir: string): Promise<Map<string, SafetensorsFile>> {
  const single = join(dir, WEIGHTS_FILE);
  const byName = new Map<string, SafetensorsFile>();
  if (await exists(single)) {
    const file = await readSafetensorsFile(single);
    for (const name of file.names()) byName.set(name, file);
    return byName;
  }
  const indexPath = join(dir, WEIGHTS_INDEX_FILE);
  if (!(await exists(indexPath))) {
    const hasBin = await exists(join(dir, 'pytorch_model.bin'));
    throw new QuiverInputError(
      hasBin
        ? `found pytorch_model.bin but no ${WEIGHTS_FILE}: PyTorch pickles are not read; re-save with save_pretrained(..., safe_serialization=True)`
        : `missing ${WEIGHTS_FILE} (or ${WEIGHTS_INDEX_FILE} with shards)`,
      dir,
    );
  }
  const index = await readJsonFile(indexPath, WeightsIndex, { missing: `cannot read ${WEIGHTS_INDEX_FILE}` });
  const shards = new Map<string, SafetensorsFile>();
  for (const [name, shard] of Object.entries(index.weight_map)) {
    if (shard.includes('/') || shard.includes('\\')) throw new QuiverInputError(`weight_map entry for "${name}" must be a file name in the folder`, indexPath);
    if (!shards.has(shard)) shards.set(shard, await readSafetensorsFile(join(dir, shard)));
    const file = shards.get(shard)!;
    if (!file.header.tensors.has(name)) throw new QuiverInputError(`the index puts "${name}" in ${shard}, which does not hold it`, indexPath);
    byName.set(name, file);
  }
  return byName;
}

/** Names that may sit in a checkpoint without being weights Quiver needs. */
function isIgnorable(name: string, config: LlamaConfig): boolean {
  // Old checkpoints store the rotary inverse frequencies; a tied model may still carry lm_head.
  return name.endsWith('.rotary_emb.inv_freq') || (config.tieWordEmbeddings && name === 'lm_head.weight');
}

function specialIdsFromTokenizerConfig(json: unknown, tokenizerJson: unknown): { bosId?: number; eosId?: number; padId?: number } {
  if (typeof json !== 'object' || json === null || typeof tokenizerJson !== 'object' || tokenizerJson === null) return {};
  const added = (tokenizerJson as { added_tokens?: { id?: unknown; content?: unknown }[] }).added_tokens ?? [];
  const idOf = (token: unknown): number | undefined => {
    const content = typeof token === 'string' ? token : typeof token === 'object' && token !== null ? (token as { content?: unknown }).content : undefined;
    const found = added.find((t) => t.content === content);
    return typeof found?.id === 'number' ? found.id : undefined;
  };
  const c = json as Record<string, unknown>;
  const out: { bosId?: number; eosId?: number; padId?: number } = {};
  const bos = idOf(c.bos_token);
  const eos = idOf(c.eos_token);
  const pad = idOf(c.pad_token);
  if (bos !== undefined) out.bosId = bos;
  if (eos !== undefined) out.eosId = eos;
  if (pad !== undefined) out.padId = pad;
  return out;
}

/** Loads a checkpoint folder; `trainable` builds the model for pretraining (LlamaModel). */
export async function loadCheckpoint(dir: string, options: ModelOptions = {}): Promise<LoadedCheckpoint> {
  const configPath = join(dir, CONFIG_FILE);
  const hfConfig = await readJsonObject(configPath, CONFIG_FILE);
  const { config } = parseHfConfig(hfConfig, configPath);

  const tokenizerPath = join(dir, TOKENIZER_FILE);
  const tokenizerJson = await readJsonObject(tokenizerPath, TOKENIZER_FILE);
  const tokenizerConfigPath = join(dir, TOKENIZER_CONFIG_FILE);
  const tokenizerConfig = (await exists(tokenizerConfigPath)) ? await readJsonObject(tokenizerConfigPath, TOKENIZER_CONFIG_FILE) : null;
  const fromTokenizerConfig = tokenizerConfig === null ? {} : specialIdsFromTokenizerConfig(tokenizerConfig, tokenizerJson);
  const tokenizer = loadTokenizerJson(
    tokenizerJson,
    {
      ...fromTokenizerConfig,
      ...(config.bosTokenId !== null ? { bosId: config.bosTokenId } : {}),
      ...(config.eosTokenIds.length > 0 ? { eosId: config.eosTokenIds[0]! } : {}),
      ...(config.padTokenId !== null ? { padId: config.padTokenId } : {}),
    },
    tokenizerPath,
  );
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new QuiverInputError(`the tokenizer has ids up to ${tokenizer.vocabSize - 1} but the model's vocab_size is ${config.vocabSize}`, tokenizerPath);
  }

  const files = await openWeights(dir);
  const expected = hfTensorShapes(config);
  for (const [name, shape] of expected) {
    const file = files.get(name);
    if (!file) throw new QuiverInputError(`the weights lack "${name}" (config.json describes a ${config.numHiddenLayers}-layer Llama${config.tieWordEmbeddings ? '' : ' with an untied lm_head'})`, dir);
    const info = file.info(name);
    if (info.shape.join() !== shape.join()) throw new QuiverInputError(`"${name}" has shape [${info.shape.join(', ')}], config.json implies [${shape.join(', ')}]`, dir);
    if (!['F32', 'F16', 'BF16', 'F64'].includes(info.dtype)) throw new QuiverInputError(`"${name}" has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`, dir);
  }
  for (const name of files.keys()) {
    if (!expected.has(name) && !isIgnorable(name, config)) throw new QuiverInputError(`unexpected tensor "${name}": not part of a Llama model as config.json describes it`, dir);
  }
  const model = LlamaModel.fromHfTensors(config, (name) => files.get(name)!.float32(name), options);
  return { model, config, tokenizer, hfConfig, tokenizerConfig, modelId: checkpointModelId(hfConfig, dir) };
}

export interface SaveCheckpointOptions {
  tokenizer: Tokenizer;
  /** Weight dtype on disk; F32 round-trips exactly. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** The config.json the model came from, to keep its other keys. */
  hfConfig?: Record<string, unknown>;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** Writes `dir` whole or not at all (an existing folder is replaced). */
export async function saveCheckpoint(dir: string, model: LlamaModel, options: SaveCheckpointOptions): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  if (options.tokenizer.vocabSize > model.config.vocabSize) {
    throw new RangeError(`the tokenizer has ${options.tokenizer.vocabSize} ids but the model only ${model.config.vocabSize}`);
  }
  const weights = serializeSafetensors(
    model.toHfTensors().map((t) => ({ name: t.name, dtype, shape: t.shape, data: t.data })),
    { format: 'pt' },
  );
  const config = { ...toHfConfig(model.config, options.hfConfig), torch_dtype: TORCH_DTYPE[dtype] };
  await replaceDirAtomic(dir, async (tmp) => {
    await writeFile(join(tmp, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    await writeFile(join(tmp, WEIGHTS_FILE), weights);
    await writeFile(join(tmp, TOKENIZER_FILE), JSON.stringify(options.tokenizer.toTokenizerJson()) + '\n');
    await writeFile(join(tmp, TOKENIZER_CONFIG_FILE), JSON.stringify(checkpointTokenizerConfig(options.tokenizer, model.config.maxPositionEmbeddings), null, 2) + '\n');
  });
}
