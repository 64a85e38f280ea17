/**
 * An independent Llama forward in numpy (float64), written from HF's modeling_llama.py: the
 * reference the TensorFlow.js model is checked against. It reads weights from safetensors files
 * with its own few-line parser, so it shares no code with the model under test.
 */
import { runPython } from './python.js';

const SCRIPT = String.raw`
import sys, json, struct
import numpy as np

def load_st(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        s, e = info['data_offsets']
        raw = b[base + s:base + e]
        if info['dtype'] == 'F32':
            a = np.frombuffer(raw, dtype='<f4')
        elif info['dtype'] == 'F16':
            a = np.frombuffer(raw, dtype='<f2')
        elif info['dtype'] == 'BF16':
            a = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(info['dtype'])
        out[name] = a.astype(np.float64).reshape(info['shape'])
    return out

req = json.loads(sys.stdin.read())
cfg = req['config']
W = load_st(req['weights'])
ids = np.array(req['ids'], dtype=np.int64)
Bn, T = ids.shape
d = cfg['hidden_size']; H = cfg['num_attention_heads']; Hkv = cfg.get('num_key_value_heads') or H
hd = cfg.get('head_dim') or d // H
eps = cfg['rms_norm_eps']; theta = cfg['rope_theta']

loras = []  # each: dict key -> (A, B), scale
for spec in req.get('loras', []):
    st = load_st(spec['path'])
    mods = {}
    for name, a in st.items():
        key = name[len('base_model.model.'):].rsplit('.', 2)[0]
        part = name.rsplit('.', 2)[1]
        mods.setdefault(key, {})[part] = a
    loras.append((mods, spec['scale']))
mode = req.get('mode', 'sum')          # 'sum': add every LoRA; 'arrow': route per token
arrow = req.get('arrow')               # {'prototypes': {key: [[...]]}, 'topK', 'temperature', 'mix'}

def rms(x, w):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

def route(key, x):
    P = np.array(arrow['prototypes'][key])            # [E, dIn]
    logits = np.abs(x @ P.T)                           # [B, T, E]
    k = arrow['topK']
    order = np.argsort(-logits, axis=-1, kind='stable')[..., :k]
    kept = np.take_along_axis(logits, order, -1) / arrow['temperature']
    kept = np.exp(kept - kept.max(-1, keepdims=True))
    kept = kept / kept.sum(-1, keepdims=True)
    w = np.zeros_like(logits)
    np.put_along_axis(w, order, kept, -1)
    return w

def lin(prefix, name, x):
    key = prefix + name
    y = x @ W[key + '.weight'].T
    if mode == 'sum':
        for mods, scale in loras:
            if key in mods:
                A, Bm = mods[key]['lora_A'], mods[key]['lora_B']
                y = y + scale * (x @ A.T) @ Bm.T
    elif mode == 'arrow' and key in arrow['prototypes']:
        w = route(key, x)                               # [B, T, E]
        if arrow['mix'] == 'outputs':
            for e, (mods, scale) in enumerate(loras):
                A, Bm = mods[key]['lora_A'], mods[key]['lora_B']
                y = y + w[..., e:e + 1] * scale * (x @ A.T) @ Bm.T
        else:  # parameters: (sum_e w_e scale_e B_e)(sum_e w_e A_e) x, per token
            a_mix = sum(w[..., e:e + 1] * (x @ mods[key]['lora_A'].T) for e, (mods, _) in enumerate(loras))
            y = y + sum(w[..., e:e + 1] * scale * a_mix @ mods[key]['lora_B'].T for e, (mods, scale) in enumerate(loras))
    return y

inv = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
ang = np.outer(np.arange(T), inv)
emb = np.concatenate([ang, ang], -1)
cos, sin = np.cos(emb), np.sin(emb)
def rot(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], -1)

caps = {}
x = W['model.embed_tokens.weight'][ids]
for l in range(cfg['num_hidden_layers']):
    p = 'model.layers.%d.' % l
    xn = rms(x, W[p + 'input_layernorm.weight'])
    for m in ('q', 'k', 'v'):
        caps[p + 'self_attn.%s_proj' % m] = xn
    q = lin(p, 'self_attn.q_proj', xn).reshape(Bn, T, H, hd).transpose(0, 2, 1, 3)
    k = lin(p, 'self_attn.k_proj', xn).reshape(Bn, T, Hkv, hd).transpose(0, 2, 1, 3)
    v = lin(p, 'self_attn.v_proj', xn).reshape(Bn, T, Hkv, hd).transpose(0, 2, 1, 3)
    q = q * cos + rot(q) * sin
    k = k * cos + rot(k) * sin
    k = np.repeat(k, H // Hkv, axis=1)
    v = np.repeat(v, H // Hkv, axis=1)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + np.triu(np.full((T, T), -np.inf), 1)
    s = np.exp(s - s.max(-1, keepdims=True))
    s = s / s.sum(-1, keepdims=True)
    o = (s @ v).transpose(0, 2, 1, 3).reshape(Bn, T, H * hd)
    caps[p + 'self_attn.o_proj'] = o
    x = x + lin(p, 'self_attn.o_proj', o)
    xn2 = rms(x, W[p + 'post_attention_layernorm.weight'])
    caps[p + 'mlp.gate_proj'] = xn2
    caps[p + 'mlp.up_proj'] = xn2
    g = lin(p, 'mlp.gate_proj', xn2)
    u = lin(p, 'mlp.up_proj', xn2)
    a = g / (1 + np.exp(-g)) * u
    caps[p + 'mlp.down_proj'] = a
    x = x + lin(p, 'mlp.down_proj', a)
head = W['lm_head.weight'] if 'lm_head.weight' in W else W['model.embed_tokens.weight']
logits = rms(x, W['model.norm.weight']) @ head.T
out = [logits] + [caps[k] for k in req.get('captures', [])]
sys.stdout.buffer.write(b''.join(np.ascontiguousarray(t, dtype='<f4').tobytes() for t in out))
`;

export interface NumpyForwardRequest {
  /** HF config.json object. */
  config: Record<string, unknown>;
  /** Path of a safetensors file with the HF-named weights. */
  weights: string;
  ids: number[][];
  /** PEFT adapter safetensors files and their α/r scales. */
  loras?: { path: string; scale: number }[];
  mode?: 'sum' | 'arrow';
  arrow?: { prototypes: Record<string, number[][]>; topK: number; temperature: number; mix: 'outputs' | 'parameters' };
  captures?: string[];
}

/** Logits [B, T, vocab] and captures [B, T, dIn] (row-major float32), from numpy. */
export function numpyLlamaForward(req: NumpyForwardRequest): { logits: Float32Array; captures: Float32Array[] } {
  const out = runPython(SCRIPT, JSON.stringify(req));
  const all = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  const B = req.ids.length;
  const T = req.ids[0]!.length;
  const vocab = req.config.vocab_size as number;
  const logits = all.subarray(0, B * T * vocab);
  let at = logits.length;
  const captures: Float32Array[] = [];
  const d = req.config.hidden_size as number;
  const ff = req.config.intermediate_size as number;
  const heads = req.config.num_attention_heads as number;
  const headDim = (req.config.head_dim as number | undefined) ?? d / heads;
  for (const key of req.captures ?? []) {
    const dIn = key.endsWith('down_proj') ? ff : key.endsWith('o_proj') ? heads * headDim : d;
    captures.push(all.subarray(at, at + B * T * dIn));
    at += B * T * dIn;
  }
  if (at !== all.length) throw new Error(`numpy returned ${all.length} floats, expected ${at}`);
  return { logits, captures };
}
