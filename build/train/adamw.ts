/**
 * AdamW (Loshchilov & Hutter), step for step as torch.optim.AdamW: decoupled weight decay
 * p ← p − lr·λ·p, then Adam with bias correction. The paper trains without weight decay (λ = 0).
 * One set of ops per parameter: one flat vector for all of them would save a LoRA's many small
 * kernels, but slicing a large tensor on wasm is a slow loop (2 ms for 49k values of a 886k-value
 * vector; concat as slow), which made a pretraining step 1.4× slower.
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
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly config: AdamWConfig;
  private readonly consts: { beta1: tf.Scalar; oneMinusBeta1: tf.Scalar; beta2: tf.Scalar; oneMinusBeta2: tf.Scalar };
  private t = 0;

  constructor(params: readonly tf.Variable[], config: z.input<typeof AdamWConfig> = {}) {
    this.params = [...params];
    this.config = AdamWConfig.parse(config);
    this.m = this.params.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = this.params.map((p) => tf.variable(tf.zerosLike(p), false));
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
      this.params.forEach((p, i) => {
        const g = gradScale ? tf.mul(grads[i]!, gradScale) : grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, k.beta1), tf.mul(g, k.oneMinusBeta1));
        const v = tf.add(tf.mul(this.v[i]!, k.beta2), tf.mul(tf.square(g), k.oneMinusBeta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const base = decay ? tf.mul(p, decay) : p;
        p.assign(tf.sub(base, tf.mul(stepSize, tf.div(m, tf.add(tf.sqrt(v), epsHat)))));
      });
    });
    tf.dispose([stepSize, epsHat, ...(decay ? [decay] : [])]);
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v, ...Object.values(this.consts)]);
  }
}
