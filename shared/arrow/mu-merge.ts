/**
 * μ-routing (docs/method.md, "Baselines"): the uniform average of the library's adapters, averaging A
 * and B separately as the reference code does (not the average of the B·A products). The
 * weighted form is LoRAX's `linear` merge (Σ w·A, Σ w·B).
 */
export interface LoraPair {
  a: Float32Array; // [r, dIn]
  b: Float32Array; // [dOut, r]
}

export function linearMerge(adapters: ReadonlyArray<LoraPair>, weights: ReadonlyArray<number>): LoraPair {
  if (adapters.length === 0) throw new RangeError('merge needs at least one adapter');
  if (weights.length !== adapters.length) throw new RangeError(`${weights.length} weights for ${adapters.length} adapters`);
  const first = adapters[0]!;
  const a = new Float32Array(first.a.length);
  const b = new Float32Array(first.b.length);
  adapters.forEach((ad, i) => {
    if (ad.a.length !== a.length || ad.b.length !== b.length)
      throw new RangeError(`adapter ${i} has other shapes than adapter 0 (all merged adapters need the same rank and module)`);
    const w = weights[i]!;
    for (let j = 0; j < a.length; j++) a[j] = a[j]! + w * ad.a[j]!;
    for (let j = 0; j < b.length; j++) b[j] = b[j]! + w * ad.b[j]!;
  });
  return { a, b };
}

export function muMerge(adapters: ReadonlyArray<LoraPair>): LoraPair {
  return linearMerge(adapters, adapters.map(() => 1 / adapters.length));
}
