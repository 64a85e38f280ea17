/**
 * The first half of per-token Arrow routing in JavaScript, the reference the other runtimes are
 * tested against (the TensorFlow.js graph in build/model/arrow-router.ts, the ONNX graph in
 * build/onnx/llama-embedder.ts): logits_e = |(x − c) · v_e| for every token's module input x and
 * every adapter's prototype v_e, accumulated in float64; c is the module's centre (the manifest's,
 * centred routing) or zero.
 *
 * @param hidden row-major [tokens, dIn]
 * @param prototypes row-major [adapters, dIn]
 * @param centre [dIn], or none
 * @returns row-major [tokens, adapters]
 */
export function arrowLogits(hidden: ArrayLike<number>, tokens: number, prototypes: ArrayLike<number>, adapters: number, dIn: number, centre?: ArrayLike<number>): Float64Array {
  if (hidden.length !== tokens * dIn) throw new RangeError(`hidden has ${hidden.length} values, expected ${tokens} × ${dIn}`);
  if (prototypes.length !== adapters * dIn) throw new RangeError(`prototypes have ${prototypes.length} values, expected ${adapters} × ${dIn}`);
  if (centre !== undefined && centre.length !== dIn) throw new RangeError(`the centre has ${centre.length} values, expected ${dIn}`);
  const logits = new Float64Array(tokens * adapters);
  for (let t = 0; t < tokens; t++) {
    const xOff = t * dIn;
    for (let e = 0; e < adapters; e++) {
      const pOff = e * dIn;
      let dot = 0;
      if (centre === undefined) for (let i = 0; i < dIn; i++) dot += hidden[xOff + i]! * prototypes[pOff + i]!;
      else for (let i = 0; i < dIn; i++) dot += (hidden[xOff + i]! - centre[i]!) * prototypes[pOff + i]!;
      logits[t * adapters + e] = Math.abs(dot);
    }
  }
  return logits;
}
