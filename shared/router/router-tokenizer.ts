/**
 * The tokenizer of a compiled folder: `tokenizer.json` (the base checkpoint's file, byte for byte)
 * and `tokenizer_config.json`, which names the special tokens as Hugging Face does
 * (`"bos_token": "<s>"`) — tokenizer.json alone does not say which token is <bos>, and the prompt
 * ids start with it.
 */
import { QuiverInputError } from '../errors.js';
import { loadTokenizerJson } from '../tokenizer/load-tokenizer-json.js';
import type { SpecialIds, Tokenizer } from '../tokenizer/tokenizer.js';

export const ROUTER_TOKENIZER_FILE = 'tokenizer.json';
export const ROUTER_TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * `tokenizer_config.json` for `tokenizer`: its special tokens by content and the model's context
 * as `model_max_length` (Hugging Face's form; the router's window).
 */
export function tokenizerConfigFor(tokenizer: Tokenizer, modelMaxLength: number): Record<string, string | number | null> {
  const content = (id: number | null): string | null => (id === null ? null : tokenizer.decode([id]));
  return { bos_token: content(tokenizer.bosId), eos_token: content(tokenizer.eosId), pad_token: content(tokenizer.padId), model_max_length: modelMaxLength };
}

/**
 * The router's window from a parsed tokenizer_config.json: its `model_max_length`, or null where
 * it has none or Hugging Face's "no limit" (a huge number such as 1e30).
 */
export function routerWindow(tokenizerConfig: unknown, where = ROUTER_TOKENIZER_CONFIG_FILE): number | null {
  if (!isRecord(tokenizerConfig) || tokenizerConfig.model_max_length === undefined || tokenizerConfig.model_max_length === null) return null;
  const n = tokenizerConfig.model_max_length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new QuiverInputError(`"model_max_length" must be a positive integer, got ${JSON.stringify(n)}`, where);
  return n > 1e9 ? null : n;
}

/** Special ids named by `config` (contents looked up among tokenizer.json's added tokens). */
function specialIds(tokenizerJson: Record<string, unknown>, config: unknown, where: string): SpecialIds {
  if (config === null) return {};
  if (!isRecord(config)) throw new QuiverInputError('expected a JSON object', where);
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens.filter(isRecord) : [];
  const idOf = (key: string): number | null | undefined => {
    const v = config[key];
    if (v === undefined) return undefined;
    if (v === null) return null;
    const text = typeof v === 'string' ? v : isRecord(v) && typeof v.content === 'string' ? v.content : undefined;
    const found = added.find((t) => t.content === text);
    if (typeof found?.id !== 'number') throw new QuiverInputError(`"${key}" names ${JSON.stringify(v)}, which is not an added token of tokenizer.json`, where);
    return found.id;
  };
  const out: SpecialIds = {};
  const bos = idOf('bos_token');
  const eos = idOf('eos_token');
  const pad = idOf('pad_token');
  if (bos !== undefined) out.bosId = bos;
  if (eos !== undefined) out.eosId = eos;
  if (pad !== undefined) out.padId = pad;
  return out;
}

/** The tokenizer from the two parsed files; `tokenizerConfig` null when the folder has none. */
export function loadRouterTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, where = ROUTER_TOKENIZER_FILE): Tokenizer {
  if (!isRecord(tokenizerJson)) throw new QuiverInputError('expected a Hugging Face tokenizer.json object', where);
  return loadTokenizerJson(tokenizerJson, specialIds(tokenizerJson, tokenizerConfig, ROUTER_TOKENIZER_CONFIG_FILE), where);
}
