import { z } from 'zod';

/**
 * The routing manifest: what the build writes and the edge reads. One safetensors file holding one
 * F16 tensor [adapters, dIn] of Arrow prototypes per routed module, optionally one F32 tensor [dIn]
 * per routed module that routing subtracts from the module's input first (its centre), and this
 * JSON in the `__metadata__` entry `quiver.manifest`. This schema is the single source of the types.
 *
 * Version 2 added the centres (version 1 had none); a version-1 manifest is refused with the
 * command that rebuilds it.
 */
export const MANIFEST_FORMAT = 'quiver.routing-manifest';
export const MANIFEST_VERSION = 3;
export const MANIFEST_METADATA_KEY = 'quiver.manifest';
export const MANIFEST_FILE = 'manifest.safetensors';

export const RoutedModule = z.strictObject({
  /** Module path in the base model, e.g. `model.layers.3.self_attn.q_proj`. */
  key: z.string().min(1),
  layer: z.number().int().nonnegative(),
  /** Path below the layer, e.g. `self_attn.q_proj`. */
  module: z.string().min(1),
  dIn: z.number().int().positive(),
  /** Name of the prototype tensor in the file. */
  tensor: z.string().min(1),
  /**
   * Name of the F32 tensor [dIn] subtracted from the module's input before |x · v| (centred
   * routing: the mean input over the library's training prompts, docs/method.md), or null: the
   * input as it is (imported adapters, whose data Quiver never sees).
   */
  centre: z.string().min(1).nullable(),
});
export type RoutedModule = z.infer<typeof RoutedModule>;

export const AdapterKind = z.enum(['private', 'mbc', 'imported']);
export type AdapterKind = z.infer<typeof AdapterKind>;

export const ManifestAdapter = z.strictObject({
  /** The name the backend knows the adapter by (vLLM lora_name, LoRAX adapter_id). */
  id: z.string().min(1),
  kind: AdapterKind,
  /** Tasks the adapter was trained on (empty when unknown, e.g. imported). */
  tasks: z.array(z.string()),
  r: z.number().int().positive(),
  loraAlpha: z.number().positive(),
  /** MBC cluster id, or null. */
  cluster: z.string().nullable(),
  /**
   * Where the adapter lives inside the library it was compiled from (`private/<task>`,
   * `mbc/<cluster>`), or null (imported adapters: their folders are the user's). Never a path of
   * the build machine, so a manifest and its checksum depend on the library alone, not on where it
   * was built or written. Informational.
   */
  source: z.string().nullable(),
});
export type ManifestAdapter = z.infer<typeof ManifestAdapter>;

/**
 * Arrow's routing settings: what a manifest stores for the edge, and the one type of every routing
 * option in the code (per token, per request, in eval, on the command line); a function that uses
 * some of them takes a Pick of this.
 */
export const RoutingDefaults = z.strictObject({
  /** Adapters kept per request (and per token inside the model). PEFT's default is 3, the paper's 4. */
  topK: z.number().int().positive(),
  /** Softmax temperature over kept logits; the paper uses 1. */
  temperature: z.number().positive(),
  /** Below this best aggregated weight the request goes to the base model; 0 never falls back. */
  threshold: z.number().min(0).max(1),
  /**
   * How request-level routing counts votes (shared/arrow/input-site-votes.ts): `site`, one per hidden
   * state the routed modules read (q, k, v of a layer: the largest of their logits), or `module`, one
   * per routed module. Which is better depends on how the adapters were trained (README, "Routing study").
   */
  votes: z.enum(['site', 'module']),
});
export type RoutingDefaults = z.infer<typeof RoutingDefaults>;

export const EmbedderRef = z.strictObject({
  /** Path of the ONNX embedder relative to the manifest. */
  path: z.string().min(1),
  /** sha256 hex of the ONNX file, so the edge can refuse an embedder of another build. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** How many decoder layers the embedder runs. */
  layers: z.number().int().positive(),
});
export type EmbedderRef = z.infer<typeof EmbedderRef>;

export const ManifestMetadata = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  baseModel: z.string().min(1),
  /** null until `quiver compile` pairs the manifest with an ONNX embedder. */
  embedder: EmbedderRef.nullable(),
  modules: z.array(RoutedModule).min(1),
  adapters: z.array(ManifestAdapter).min(1),
  routing: RoutingDefaults,
  /** `sha256:<hex>` over the canonical metadata (this field left out) and every prototype byte. */
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
export type ManifestMetadata = z.infer<typeof ManifestMetadata>;

/**
 * Defaults with a reason: τ 1 and no fallback follow the paper; site votes route the EVA-started
 * adapters Quiver trains best (held-out family first 55.8% → 86.3%, README, "Routing study"); top-k 6 (the paper keeps 4, PEFT's
 * Arrow 3) is what `quiver calibrate` fits on the default library's validation prompts
 * (data/calibration.jsonl) with one vote per input site: 91.7% of its held-out part routed right,
 * 88.1% at 4 (README, "Fitting the routing defaults"). `quiver eval` routes with the same top-k
 * and temperature (EVAL_DEFAULTS), so what it measures of request-level routing is what a manifest
 * compiled with the defaults serves at the edge.
 */
export const DEFAULT_ROUTING: RoutingDefaults = { topK: 6, temperature: 1, threshold: 0, votes: 'site' };
