/**
 * The contract between the ONNX embedder and the router: the graph's inputs and outputs by name.
 *
 * Arrow logits: per routed module an input `prototypes.<module key>` [adapters, dIn] — the
 * manifest's tensor of that name, fed at run time, so one embedder serves every library of its base
 * model and a new manifest needs no new ONNX file — and an output `arrow_logits.<module key>` =
 * |x · Pᵀ| [batch, seq, adapters], computed in the graph (bench/embedder.ts: 10× faster than the
 * same product in JavaScript on the default base).
 *
 * Centred routing: a module whose manifest entry has a centre also takes the input
 * `centres.<module key>` [dIn] (the manifest's tensor of that name), and its logits are
 * |(x − c) · Pᵀ|.
 *
 * Hidden states: a routed module's prototype lives in that module's input space, so the graph also
 * outputs module inputs — once per distinct hidden state, because q, k and v read the same
 * post-input_layernorm state (and gate and up the same post-attention_layernorm state). Names are
 * the HF module paths of what each output is:
 *   model.layers.N.input_layernorm.output           → self_attn.{q,k,v}_proj
 *   model.layers.N.self_attn.o_proj.input           → self_attn.o_proj (attention output)
 *   model.layers.N.post_attention_layernorm.output  → mlp.{gate,up}_proj
 *   model.layers.N.mlp.down_proj.input              → mlp.down_proj (silu(gate)·up)
 * The ONNX writer names its outputs with this file and the embedders read them with it.
 */
import { centreTensorName, prototypeTensorName } from '../manifest/manifest-codec.js';
import { parseModuleKey } from '../peft/module-names.js';

/** The embedder's token input: int64 [batch, seq]. */
export const EMBEDDER_INPUT = 'input_ids';

/** The graph input for a module's prototypes: the manifest's tensor of the same name. */
export const prototypesInputName: (moduleKey: string) => string = prototypeTensorName;

/** The graph input for a module's centre (centred routing): the manifest's tensor of the same name. */
export const centreInputName: (moduleKey: string) => string = centreTensorName;

/** The graph output of a module's Arrow logits |x · v_e|, [batch, seq, adapters]. */
export function arrowLogitsName(moduleKey: string): string {
  return `arrow_logits.${moduleKey}`;
}

/** The four hidden states of a Llama layer that projections read, in the order the layer computes them. */
export type ModuleInputSite = 'attnIn' | 'attnOut' | 'mlpIn' | 'mlpAct';
export const MODULE_INPUT_SITES: readonly ModuleInputSite[] = ['attnIn', 'attnOut', 'mlpIn', 'mlpAct'];

const SITE_OF_PROJECTION: Record<string, ModuleInputSite> = {
  'self_attn.q_proj': 'attnIn',
  'self_attn.k_proj': 'attnIn',
  'self_attn.v_proj': 'attnIn',
  'self_attn.o_proj': 'attnOut',
  'mlp.gate_proj': 'mlpIn',
  'mlp.up_proj': 'mlpIn',
  'mlp.down_proj': 'mlpAct',
};

const OUTPUT_SUFFIX: Record<ModuleInputSite, string> = {
  attnIn: 'input_layernorm.output',
  attnOut: 'self_attn.o_proj.input',
  mlpIn: 'post_attention_layernorm.output',
  mlpAct: 'mlp.down_proj.input',
};

/** Where a Llama module key reads its input; null for a module the embedder cannot serve. */
export function moduleInputSite(moduleKey: string): { layer: number; site: ModuleInputSite } | null {
  const m = parseModuleKey(moduleKey);
  const site = m ? SITE_OF_PROJECTION[m.module] : undefined;
  return m && site ? { layer: m.layer, site } : null;
}

/** The graph output for a layer's hidden state, e.g. `model.layers.3.input_layernorm.output`. */
export function siteOutputName(layer: number, site: ModuleInputSite): string {
  return `model.layers.${layer}.${OUTPUT_SUFFIX[site]}`;
}

/** The graph output holding `moduleKey`'s input; null when the embedder cannot serve that module. */
export function embedderOutputName(moduleKey: string): string | null {
  const s = moduleInputSite(moduleKey);
  return s ? siteOutputName(s.layer, s.site) : null;
}
