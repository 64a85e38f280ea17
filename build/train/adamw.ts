/**
 * AdamW (Loshchilov & Hutter), step for step as torch.optim.AdamW: decoupled weight decay
 * p ← p − lr·λ·p, then Adam with bias correction. The paper trains without weight decay (λ = 0).
 * The moments of all parameters live in one flat vector each, so a step is a dozen kernels over
 * every parameter at once and one subtraction per parameter, not a dozen per parameter: a LoRA's
 * parameters are small matrices, whose kernels on wasm cost their fixed overhead, not their size.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

/** AdamW's constants: torch.optim.AdamW's defaults, no weight decay. Unknown keys are dropped (StepTrainerConfig passes its own). */
export const AdamWConfig = z.object({
  /** PyTorch's default. */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** PyTorch's default. */
  beta2: z.number().min(0).lt(1).default(0.999),
  /** PyTorch's default. */
  eps: z.number().positive().default(1e-8),
  /** 0: the paper trains LoRAs without weight decay. */
  weightDecay: z.number().min(0).default(0),
});
export type AdamWConfig = z.output<typeof AdamWConfig>;

export class AdamW {
  private readonly params: tf.Variable[];
  private readonly m: tf.Variable; // [Σ sizes], params in order
  private readonly v: tf.Variable;
  private readonly config: AdamWConfig;
  private readonly consts: { beta1: tf.Scalar; oneMinusBeta1: tf.Scalar; beta2: tf.Scalar; oneMinusBeta2: tf.Scalar };
  private t = 0;

  constructor(params: readonly tf.Variable[], config: z.input<typeof AdamWConfig> = {}) {
    this.params = [...params];
    this.config = AdamWConfig.parse(config);
    const size = this.params.reduce((n, p) => n + p.size, 0);
    this.m = tf.variable(tf.zeros([size]), false);
    this.v = tf.variable(tf.zeros([size]), false);
    const c = this.config;
    this.consts = { beta1: tf.scalar(c.beta1), oneMinusBeta1: tf.scalar(1 - c.beta1), beta2: tf.scalar(c.beta2), oneMinusBeta2: tf.scalar(1 - c.beta2) };
  }

  /** Steps taken. */
  get step(): number {
    return this.t;
  }

  /** One update with `grads` (in params order), each scaled first by `gradScale` (clipping), at `lr`. */
  apply(grads: readonly tf.Tensor[], gradScale: tf.Scalar | null, lr: number): void {
    if (grads.length !== this.params.length) throw new RangeError(`${grads.length} gradients for ${this.params.length} parameters`);
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const k = this.consts;
    // p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + eps)   ≡   p ← p − stepSize · m / (√v + epsHat)
    const rootBias2 = Math.sqrt(1 - beta2 ** this.t);
    const stepSize = tf.scalar((lr / (1 - beta1 ** this.t)) * rootBias2);
    const epsHat = tf.scalar(eps * rootBias2);
    const decay = weightDecay > 0 ? tf.scalar(1 - lr * weightDecay) : null;
    tf.tidy(() => {
      const flat = flatten(grads);
      const g = gradScale ? tf.mul(flat, gradScale) : flat;
      const m = tf.add(tf.mul(this.m, k.beta1), tf.mul(g, k.oneMinusBeta1));
      const v = tf.add(tf.mul(this.v, k.beta2), tf.mul(tf.square(g), k.oneMinusBeta2));
      this.m.assign(m);
      this.v.assign(v);
      const update = tf.mul(stepSize, tf.div(m, tf.add(tf.sqrt(v), epsHat)));
      let offset = 0;
      for (const p of this.params) {
        const base = decay ? tf.mul(p, decay) : p;
        p.assign(tf.sub(base, tf.reshape(tf.slice(update, offset, p.size), p.shape)));
        offset += p.size;
      }
    });
    tf.dispose([stepSize, epsHat, ...(decay ? [decay] : [])]);
  }

  dispose(): void {
    tf.dispose([this.m, this.v, ...Object.values(this.consts)]);
  }
}

/** Tensors as one flat vector, in order (one concat; a single tensor is only reshaped). */
export function flatten(ts: readonly tf.Tensor[]): tf.Tensor1D {
  const flat = ts.map((t) => tf.reshape(t, [-1]));
  return (flat.length === 1 ? flat[0]! : tf.concat(flat)) as tf.Tensor1D;
}
