/**
 * The linear projections of a Llama layer, grouped by the input they read: q, k and v read the
 * post-input_layernorm hidden state, gate and up the post-attention_layernorm one, o the attention
 * output and down the SwiGLU activation. Projections of one group share a LoRA input (their A
 * matrices run as one matmul, lora.ts) and a capture (an Arrow router routes on it).
 * The base projections themselves stay separate matmuls: on tfjs-backend-wasm, splitting a fused
 * [rows, q|k|v] output costs as much as the matmuls it would save.
 */
import { parseModuleKey } from '../../shared/peft/module-names.js';
import type { LlamaConfig } from './config.js';

export type ProjectionGroup = 'qkv' | 'o' | 'gateUp' | 'down';

export const PROJECTION_NAMES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type ProjectionName = (typeof PROJECTION_NAMES)[number];
export const PROJECTION_GROUPS: readonly ProjectionGroup[] = ['qkv', 'o', 'gateUp', 'down'];

const PARENT: Record<ProjectionName, 'self_attn' | 'mlp'> = {
  q_proj: 'self_attn',
  k_proj: 'self_attn',
  v_proj: 'self_attn',
  o_proj: 'self_attn',
  gate_proj: 'mlp',
  up_proj: 'mlp',
  down_proj: 'mlp',
};

const GROUP_MEMBERS: Record<ProjectionGroup, readonly ProjectionName[]> = {
  qkv: ['q_proj', 'k_proj', 'v_proj'],
  o: ['o_proj'],
  gateUp: ['gate_proj', 'up_proj'],
  down: ['down_proj'],
};

export function isProjectionName(name: string): name is ProjectionName {
  return (PROJECTION_NAMES as readonly string[]).includes(name);
}

export function groupOf(name: ProjectionName): ProjectionGroup {
  for (const g of PROJECTION_GROUPS) if (GROUP_MEMBERS[g].includes(name)) return g;
  throw new Error(`unreachable: ${name}`);
}

/** `self_attn.q_proj`: the path below the layer, as PEFT and the manifest name it. */
export function projectionPath(name: ProjectionName): string {
  return `${PARENT[name]}.${name}`;
}

/** `model.layers.3.self_attn.q_proj`: the module key PEFT adapters and captures use. */
export function moduleKey(layer: number, name: ProjectionName): string {
  return `model.layers.${layer}.${projectionPath(name)}`;
}

/** A module key (parseModuleKey, shared/peft/module-names.ts) that names a Llama layer projection, else null. */
export function parseProjectionKey(key: string): { layer: number; name: ProjectionName } | null {
  const m = parseModuleKey(key);
  const name = m?.module.slice(m.module.indexOf('.') + 1) ?? '';
  return m && isProjectionName(name) && key === moduleKey(m.layer, name) ? { layer: m.layer, name } : null;
}

/** [dIn, dOut] of a projection (HF stores its weight as [dOut, dIn]). */
export function projectionShape(config: LlamaConfig, name: ProjectionName): { dIn: number; dOut: number } {
  const d = config.hiddenSize;
  const qDim = config.numAttentionHeads * config.headDim;
  const kvDim = config.numKeyValueHeads * config.headDim;
  switch (name) {
    case 'q_proj':
      return { dIn: d, dOut: qDim };
    case 'k_proj':
    case 'v_proj':
      return { dIn: d, dOut: kvDim };
    case 'o_proj':
      return { dIn: qDim, dOut: d };
    case 'gate_proj':
    case 'up_proj':
      return { dIn: d, dOut: config.intermediateSize };
    case 'down_proj':
      return { dIn: config.intermediateSize, dOut: d };
  }
}

export interface GroupMember {
  name: ProjectionName;
  dOut: number;
}

/** The projections of a group, in PROJECTION_NAMES order, and the input width they share. */
export function groupLayout(config: LlamaConfig, group: ProjectionGroup): { dIn: number; members: GroupMember[] } {
  const members = GROUP_MEMBERS[group].map((name) => ({ name, dOut: projectionShape(config, name).dOut }));
  return { dIn: projectionShape(config, GROUP_MEMBERS[group][0]!).dIn, members };
}
