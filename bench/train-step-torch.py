"""The bench's LoRA training step in PyTorch: the yardstick for the TensorFlow.js step.

Written the way a PyTorch user writes it (Hugging Face's Llama and PEFT's LoRA, by hand so that
it needs nothing but torch): token embedding, per layer RMSNorm -> causal self-attention with
rotary positions (rotate_half, as build/model/rope.ts) -> residual, RMSNorm -> SwiGLU MLP ->
residual, final RMSNorm, LM head tied to the embedding or not; LoRA y = Wx + (alpha/r) B A drop(x)
on the target projections, one dropout per module as PEFT; logits for every position and
cross-entropy on the shifted labels (ignore -100) as LlamaForCausalLM; AdamW (no weight decay),
global-norm clipping, linear warm-up then decay. The frozen base has requires_grad False, so
autograd computes no weight gradient for it.

bench/torch-reference.ts starts it with one thread (OPENBLAS_NUM_THREADS=1 in the environment,
torch.set_num_threads(1) here) and a folder holding spec.json, weights.bin and batches.bin
(the TensorFlow.js model's own initial weights and batches). It answers one JSON line per
command line on stdin:
  {"cmd": "losses", "steps": n, "lr": x, "dropout": p}  -> {"losses": [...]}: n steps from the
      initial weights on a fresh copy, schedule over n steps (the equivalence check)
  {"cmd": "time", "steps": n}  -> {"ms": wall ms, "cpuMs": CPU ms of this process, per step}: n more
      steps of the timing run
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def blas_library():
    """Which BLAS torch's matmuls reach: Debian's torch uses the slow reference BLAS unless
    libopenblas0-pthread provides libblas.so.3 (docs/environment.md, "Test references")."""
    torch.randn(8, 8) @ torch.randn(8, 8)
    with open("/proc/self/maps") as f:
        maps = f.read()
    if "openblas" in maps:
        return "openblas"
    if "mkl" in maps:
        return "mkl"
    return "reference BLAS (slow: install libopenblas0-pthread)"


class Step:
    def __init__(self, spec, weights, lr, dropout, total_steps):
        c = spec["config"]
        self.c = c
        self.hd = c["headDim"]
        self.h = c["numAttentionHeads"]
        self.hkv = c["numKeyValueHeads"]
        self.eps = c["rmsNormEps"]
        self.scale = spec["lora"]["alpha"] / spec["lora"]["r"]
        self.dropout = dropout
        self.w = {name: t.clone() for name, t in weights.items()}  # frozen: requires_grad False
        self.lora = {}
        for key in spec["lora"]["modules"]:
            a = weights[key + ".lora_A.weight"].clone().requires_grad_(True)
            b = weights[key + ".lora_B.weight"].clone().requires_grad_(True)
            self.lora[key] = (a, b)
        params = [p for ab in self.lora.values() for p in ab]
        self.params = params
        self.opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        warmup = math.ceil(total_steps * spec["train"]["warmupRatio"])

        def factor(step):  # build/train/lr-schedule.ts, transformers' linear schedule
            if step < warmup:
                return step / max(1, warmup)
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, factor)
        self.clip = spec["train"]["gradClip"]
        t = spec["maxSeqLen"]
        inv = 1.0 / (c["ropeTheta"] ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
        ang = torch.outer(torch.arange(t, dtype=torch.float32), inv)
        emb = torch.cat([ang, ang], dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def proj(self, x, layer, name):
        parent = "mlp" if name in ("gate_proj", "up_proj", "down_proj") else "self_attn"
        key = f"model.layers.{layer}.{parent}.{name}"
        y = F.linear(x, self.w[key + ".weight"])
        if key in self.lora:
            a, b = self.lora[key]
            y = y + self.scale * F.linear(F.linear(F.dropout(x, self.dropout, True), a), b)
        return y

    def rope(self, x, t):
        cos, sin = self.cos[:t], self.sin[:t]
        half = self.hd // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rot * sin

    def loss(self, ids, labels):
        bsz, t = ids.shape
        x = F.embedding(ids, self.w["model.embed_tokens.weight"])
        mask = torch.full((t, t), float("-inf")).triu(1)
        for l in range(self.c["numHiddenLayers"]):
            p = f"model.layers.{l}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])
            q = self.proj(h, l, "q_proj").view(bsz, t, self.h, self.hd).transpose(1, 2)
            k = self.proj(h, l, "k_proj").view(bsz, t, self.hkv, self.hd).transpose(1, 2)
            v = self.proj(h, l, "v_proj").view(bsz, t, self.hkv, self.hd).transpose(1, 2)
            q, k = self.rope(q, t), self.rope(k, t)
            if self.hkv != self.h:
                k = k.repeat_interleave(self.h // self.hkv, dim=1)
                v = v.repeat_interleave(self.h // self.hkv, dim=1)
            s = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + mask
            a = (s.softmax(-1) @ v).transpose(1, 2).reshape(bsz, t, self.h * self.hd)
            x = x + self.proj(a, l, "o_proj")
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])
            x = x + self.proj(F.silu(self.proj(h, l, "gate_proj")) * self.proj(h, l, "up_proj"), l, "down_proj")
        x = self.rms(x, self.w["model.norm.weight"])
        head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])
        logits = F.linear(x, head)
        v = logits.shape[-1]
        return F.cross_entropy(logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1), ignore_index=-100)

    def train_step(self, ids, labels):
        loss = self.loss(ids, labels)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()
        self.sched.step()
        return loss.item()


def load(folder):
    with open(os.path.join(folder, "spec.json")) as f:
        spec = json.load(f)
    flat = np.fromfile(os.path.join(folder, "weights.bin"), dtype="<f4")
    weights = {}
    for t in spec["tensors"]:
        n = int(np.prod(t["shape"]))
        weights[t["name"]] = torch.from_numpy(flat[t["offset"] : t["offset"] + n].copy()).view(*t["shape"])
    b = spec["batches"]
    raw = np.fromfile(os.path.join(folder, "batches.bin"), dtype="<i4").reshape(2, b["count"], b["batchSize"], b["seqLen"])
    batches = [(torch.from_numpy(raw[0, i]).long(), torch.from_numpy(raw[1, i]).long()) for i in range(b["count"])]
    return spec, weights, batches


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    spec, weights, batches = load(sys.argv[1])
    train = spec["train"]
    timing = Step(spec, weights, train["lr"], spec["lora"]["dropout"], train["totalSteps"])
    done = 0
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "losses":
            fresh = Step(spec, weights, cmd["lr"], cmd["dropout"], cmd["steps"])
            losses = [fresh.train_step(*batches[i % len(batches)]) for i in range(cmd["steps"])]
            print(json.dumps({"losses": losses}), flush=True)
        elif cmd["cmd"] == "time":
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(cmd["steps"]):
                timing.train_step(*batches[done % len(batches)])
                done += 1
            n = cmd["steps"]
            print(json.dumps({"ms": (time.perf_counter() - start) * 1000 / n, "cpuMs": (time.process_time() - cpu) * 1000 / n}), flush=True)
        else:
            print(json.dumps({"error": "unknown command " + str(cmd["cmd"])}), flush=True)


if __name__ == "__main__":
    main()
