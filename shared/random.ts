/**
 * Seeded pseudo-random numbers (mulberry32): the same seed gives the same stream on every
 * runtime, which is what makes clustering, splits and initialisations reproducible.
 */
/** mulberry32's state increment, and its output for a state: uniform in [0, 1). */
const STEP = 0x6d2b79f5;
function output(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + STEP) >>> 0;
    return output(this.state);
  }

  /**
   * out[i] = (next() < p ? below : otherwise) for every i, in order: the stream of out.length calls
   * of next(), in one loop that keeps the state in a local (twice as fast: LoRA dropout draws a
   * value per input element, 100k a step).
   */
  fillThreshold(out: Float32Array, p: number, below: number, otherwise: number): void {
    let s = this.state;
    for (let i = 0; i < out.length; i++) {
      s = (s + STEP) >>> 0;
      out[i] = output(s) < p ? below : otherwise;
    }
    this.state = s;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Float32Array of n standard normals times `scale`. */
  normals(n: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * scale;
    return out;
  }
}
