/**
 * Request-level Arrow routing of one prompt (docs/method.md, "Request-level Arrow"): the pure router that `quiver route` and
 * the edge both run. Prompt ids as training saw them → embedder (Arrow logits |x · v_e| per routed
 * module and token) → one logit per vote (routing.votes: per input site, the largest of its modules'
 * logits, or per module; input-site-votes.ts) → per-token top-k softmax → mean over tokens and votes → top k.
 */
import { moduleVoteGroups } from '../arrow/input-site-votes.js';
import { requestRoutingFromLogits } from '../arrow/request-routing.js';
import type { Manifest } from '../manifest/manifest-codec.js';
import type { RoutingDefaults } from '../manifest/schema.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { Embedder } from './embedder.js';
import { promptIds } from './prompt-ids.js';

export interface RouterParts {
  manifest: Manifest;
  tokenizer: Tokenizer;
  embedder: Embedder;
  /**
   * The embedder's window in tokens (the base model's context, `model_max_length` of the compiled
   * folder's tokenizer_config.json): a longer prompt is routed on its first `window` ids — <bos>
   * and the start of the input, where a task states what it asks — never refused. null: no limit.
   */
  window: number | null;
}

/** Overrides of the manifest's routing defaults for one request. */
export interface RouteOptions extends Partial<RoutingDefaults> {
  /** Keep only the first `maxTokens` prompt ids (a cost cap; default: all). */
  maxTokens?: number;
}

export interface RouteResult {
  /** Prompt tokens routed on (after the window and `maxTokens`). */
  tokens: number;
  /** Prompt tokens before the window: more than `tokens` when the prompt was cut. */
  promptTokens: number;
  /** The routing actually applied (manifest defaults with the overrides). */
  routing: RoutingDefaults;
  /** Every adapter's aggregated weight, in manifest order; they sum to 1. */
  scores: Array<{ id: string; score: number }>;
  /** The adapters for the backend, best first, weights summing to 1; empty below the threshold. */
  selected: Array<{ id: string; weight: number }>;
  /** The best score was under the threshold: serve the base model. */
  belowThreshold: boolean;
}

/** The routing math on Arrow logits already computed (per module key, row-major [tokens, adapters]). */
export function routeLogits(manifest: Manifest, logits: ReadonlyMap<string, ArrayLike<number>>, tokens: number, routing: RoutingDefaults): Omit<RouteResult, 'tokens' | 'promptTokens' | 'routing'> {
  const { adapters, modules } = manifest.metadata;
  const moduleLogits = modules.map((m) => {
    const z = logits.get(m.key);
    if (!z) throw new RangeError(`no Arrow logits for routed module ${m.key}`);
    return z;
  });
  const votes = moduleVoteGroups(modules, routing.votes).map((g) => g.map((i) => moduleLogits[i]!));
  const r = requestRoutingFromLogits(votes, tokens, adapters.length, routing);
  return {
    scores: adapters.map((a, i) => ({ id: a.id, score: r.scores[i]! })),
    selected: r.selected.map((s) => ({ id: adapters[s.index]!.id, weight: s.weight })),
    belowThreshold: r.belowThreshold,
  };
}

/** Routes one prompt. */
export async function routeRequest(parts: RouterParts, prompt: string, options: RouteOptions = {}): Promise<RouteResult> {
  const { maxTokens, ...overrides } = options;
  const routing: RoutingDefaults = { ...parts.manifest.metadata.routing, ...definedOnly(overrides) };
  const all = promptIds(parts.tokenizer, prompt);
  if (maxTokens !== undefined && !(maxTokens >= 1)) throw new RangeError(`maxTokens must be >= 1, got ${maxTokens}`);
  const ids = all.slice(0, Math.min(maxTokens ?? Infinity, parts.window ?? Infinity));
  const logits = await parts.embedder.run(ids);
  return { tokens: ids.length, promptTokens: all.length, routing, ...routeLogits(parts.manifest, logits, ids.length, routing) };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
