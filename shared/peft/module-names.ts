/**
 * Where a PEFT LoRA tensor sits in the base model. PEFT saves
 * `base_model.model.<module path>.lora_{A,B}.weight`; the module path depends on the family:
 *   Llama / Mistral / Qwen2: model.layers.N.self_attn.{q,k,v,o}_proj, model.layers.N.mlp.{gate,up,down}_proj
 *   Phi-3:                   model.layers.N.self_attn.{qkv_proj,o_proj}, model.layers.N.mlp.{gate_up_proj,down_proj}
 *   Phi-2:                   model.layers.N.self_attn.{q,k,v}_proj, .self_attn.dense, model.layers.N.mlp.{fc1,fc2}
 *   GPT-2:                   transformer.h.N.attn.{c_attn,c_proj}, transformer.h.N.mlp.{c_fc,c_proj}
 * (GPT-2's Conv1D stores W as [d_in, d_out] — `fan_in_fan_out` — but PEFT still saves
 * lora_A as [r, d_in] and lora_B as [d_out, r], so the LoRA math is the same.)
 */
export type LoraPart = 'lora_A' | 'lora_B';

/** A module of a base model, as PEFT, manifests and captures name it. */
export interface ModuleKey {
  /** Module path inside the base model, e.g. `model.layers.3.self_attn.q_proj`. */
  key: string;
  layer: number;
  /** Path below the layer, e.g. `self_attn.q_proj` or `mlp.c_proj`. */
  module: string;
}

export interface LoraTensorName extends ModuleKey {
  part: LoraPart;
}

const TENSOR = /^base_model\.model\.(.+)\.(lora_A|lora_B)\.weight$/;
// Layer numbers as PyTorch names them: no leading zeros, so a key has one spelling.
const DECODER_LAYER = /^model\.layers\.(0|[1-9]\d*)\.((?:self_attn\.(?:q_proj|k_proj|v_proj|o_proj|qkv_proj|dense))|(?:mlp\.(?:gate_proj|up_proj|down_proj|gate_up_proj|fc1|fc2)))$/;
const GPT2_LAYER = /^transformer\.h\.(0|[1-9]\d*)\.((?:attn\.(?:c_attn|c_proj))|(?:mlp\.(?:c_fc|c_proj)))$/;

/**
 * The one parser of module keys: its layer and the path below the layer, for every family above;
 * null for anything else. What a family-specific reader needs (a Llama projection's name, the
 * hidden state an embedder output holds) it looks up from `module`.
 */
export function parseModuleKey(key: string): ModuleKey | null {
  const m = DECODER_LAYER.exec(key) ?? GPT2_LAYER.exec(key);
  return m ? { key, layer: Number(m[1]), module: m[2]! } : null;
}

/** The module names Quiver knows, for error messages and `--help`. */
export const KNOWN_MODULES = [
  'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'self_attn.qkv_proj', 'self_attn.dense',
  'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj', 'mlp.gate_up_proj', 'mlp.fc1', 'mlp.fc2',
  'attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj',
] as const;

/** Parse a PEFT tensor name; returns an error string (not a throw) so the caller can name the file. */
export function parseLoraTensorName(name: string): LoraTensorName | { error: string } {
  const t = TENSOR.exec(name);
  if (!t) {
    if (/lora_embedding_|lora_magnitude_vector/.test(name))
      return { error: `tensor "${name}" is a LoRA embedding or DoRA magnitude; only LoRA on linear layers is supported` };
    return { error: `tensor "${name}" is not a LoRA weight (expected base_model.model.<module>.lora_A.weight or .lora_B.weight)` };
  }
  const key = t[1]!;
  const parsed = parseModuleKey(key);
  if (!parsed)
    return {
      error: `tensor "${name}": module "${key}" is not one Quiver knows (Llama/Mistral/Qwen2, Phi-3, Phi-2 or GPT-2 layer modules: ${KNOWN_MODULES.join(', ')})`,
    };
  return { ...parsed, part: t[2] as LoraPart };
}

/** PEFT tensor name for a module path and part. */
export function loraTensorName(key: string, part: LoraPart): string {
  return `base_model.model.${key}.${part}.weight`;
}

/** Canonical module order: by layer, then by module name. Used for manifests and MBC vectors. */
export function compareModules(x: { layer: number; module: string }, y: { layer: number; module: string }): number {
  return x.layer - y.layer || (x.module < y.module ? -1 : x.module > y.module ? 1 : 0);
}
