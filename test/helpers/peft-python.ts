/**
 * PEFT adapter folders written by numpy, the way PEFT's save_pretrained lays them out, with a
 * safetensors writer of its own (not ours), plus numpy's SVD answer for every module's prototype.
 */
import { runPython } from './python.js';

export const FAMILY_MODULES: Record<string, { prefix: (layer: number) => string; modules: Array<[string, number, number]> }> = {
  // [module below the layer, d_in, d_out] with small made-up sizes per family's naming.
  llama: {
    prefix: (l) => `model.layers.${l}`,
    modules: [['self_attn.q_proj', 24, 24], ['self_attn.k_proj', 24, 8], ['self_attn.v_proj', 24, 8], ['self_attn.o_proj', 24, 24], ['mlp.gate_proj', 24, 40], ['mlp.up_proj', 24, 40], ['mlp.down_proj', 40, 24]],
  },
  phi3: {
    prefix: (l) => `model.layers.${l}`,
    modules: [['self_attn.qkv_proj', 16, 48], ['self_attn.o_proj', 16, 16], ['mlp.gate_up_proj', 16, 64], ['mlp.down_proj', 32, 16]],
  },
  phi2: {
    prefix: (l) => `model.layers.${l}`,
    modules: [['self_attn.q_proj', 20, 20], ['self_attn.k_proj', 20, 20], ['self_attn.v_proj', 20, 20], ['self_attn.dense', 20, 20], ['mlp.fc1', 20, 36], ['mlp.fc2', 36, 20]],
  },
  gpt2: {
    prefix: (l) => `transformer.h.${l}`,
    modules: [['attn.c_attn', 16, 48], ['attn.c_proj', 16, 16], ['mlp.c_fc', 16, 32], ['mlp.c_proj', 32, 16]],
  },
};

const SCRIPT = String.raw`
import json, struct, sys, os
import numpy as np
spec = json.loads(sys.stdin.read())
rng = np.random.default_rng(spec["seed"])
out = spec["dir"]; os.makedirs(out, exist_ok=True)
cfg = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": spec["r"], "lora_alpha": 16,
       "target_modules": sorted({m[0].split(".")[-1] for m in spec["modules"]}),
       "base_model_name_or_path": spec["base"], "bias": "none", "fan_in_fan_out": spec["fan_in_fan_out"],
       "lora_dropout": 0.05, "modules_to_save": None, "use_dora": False, "use_rslora": False,
       "revision": None, "inference_mode": True, "layers_to_transform": None}
json.dump(cfg, open(os.path.join(out, "adapter_config.json"), "w"))
def bf16(x):
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)
tensors = {}; expect = {}
for layer in range(spec["layers"]):
    for (mod, d_in, d_out) in spec["modules"]:
        key = spec["prefix"].replace("{L}", str(layer)) + "." + mod
        r = spec["r"]
        A = rng.standard_normal((r, d_in)).astype(np.float32)
        B = rng.standard_normal((d_out, r)).astype(np.float32)
        if spec["dtype"] == "F16":
            A = A.astype(np.float16); B = B.astype(np.float16)
            rawA, rawB = A.tobytes(), B.tobytes(); Af, Bf = A.astype(np.float64), B.astype(np.float64)
        elif spec["dtype"] == "BF16":
            ua, ub = bf16(A), bf16(B)
            rawA, rawB = ua.tobytes(), ub.tobytes()
            Af = (ua.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
            Bf = (ub.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            rawA, rawB = A.tobytes(), B.tobytes(); Af, Bf = A.astype(np.float64), B.astype(np.float64)
        tensors["base_model.model." + key + ".lora_A.weight"] = (list(A.shape), rawA)
        tensors["base_model.model." + key + ".lora_B.weight"] = (list(B.shape), rawB)
        _, s, vt = np.linalg.svd(Bf @ Af)
        v = vt[0]; v = v * (1 if v[np.argmax(np.abs(v))] > 0 else -1)
        expect[key] = {"layer": layer, "module": mod, "dIn": d_in, "dOut": d_out, "r": r,
                       "a": Af.ravel().tolist(), "b": Bf.ravel().tolist(), "v": v.tolist(), "sigma": float(s[0])}
# safetensors by hand, tensors in reverse name order to differ from our writer's layout
header = {"__metadata__": {"format": "pt"}}; off = 0; blobs = []
for name in sorted(tensors, reverse=True):
    shape, raw = tensors[name]
    header[name] = {"dtype": spec["dtype"], "shape": shape, "data_offsets": [off, off + len(raw)]}
    off += len(raw); blobs.append(raw)
h = json.dumps(header).encode()
with open(os.path.join(out, "adapter_model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(blobs))
print(json.dumps(expect))
`;

export interface ExpectedModule {
  layer: number;
  module: string;
  dIn: number;
  dOut: number;
  r: number;
  a: number[];
  b: number[];
  v: number[];
  sigma: number;
}

export function writeNumpyAdapter(opts: {
  dir: string;
  family: keyof typeof FAMILY_MODULES;
  layers?: number;
  r?: number;
  seed?: number;
  dtype?: 'F32' | 'F16' | 'BF16';
  base?: string;
}): Record<string, ExpectedModule> {
  const fam = FAMILY_MODULES[opts.family]!;
  const spec = {
    dir: opts.dir,
    prefix: fam.prefix(0).replace(/0$/, '{L}'),
    modules: fam.modules,
    layers: opts.layers ?? 2,
    r: opts.r ?? 4,
    seed: opts.seed ?? 0,
    dtype: opts.dtype ?? 'F32',
    base: opts.base ?? `test/${opts.family}-tiny`,
    fan_in_fan_out: opts.family === 'gpt2',
  };
  const out = runPython(SCRIPT, JSON.stringify(spec));
  return JSON.parse(new TextDecoder().decode(out)) as Record<string, ExpectedModule>;
}
