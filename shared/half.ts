/**
 * Half-precision conversions: IEEE 754 binary16 (F16) and bfloat16 (BF16) to and from float32.
 * Encoding rounds to nearest, ties to even, like numpy's `astype(float16)` and PyTorch's bf16 cast.
 * Bit access goes through one shared scratch view (no allocation per value); the array versions
 * read a Float32Array's bits through a Uint32Array view of the same memory.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 bits -> binary16 bits, round to nearest even. */
function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays inf; NaN keeps its top payload bits and is forced quiet so it cannot become inf.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00; // too large: overflows to inf
  if (e <= 0) {
    // Result is subnormal (or zero): value = M * 2^(exp-150), in units of 2^-24 that is M >> (14 - e).
    // Below 2^-25 (e < -10) everything rounds to zero; exactly 2^-25 is a tie that rounds to even 0.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (q & 1) !== 0)) q++; // q may carry into the smallest normal
    return sign | q;
  }
  let q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1) !== 0)) q++; // a carry may reach 0x7c00 = inf
  return sign | q;
}

/** float32 bits -> bfloat16 bits, round to nearest even. */
function f32BitsToBf16Bits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x0040) & 0xffff; // NaN: keep it quiet NaN
  // `b` comes from a Uint32Array and non-NaN bits are at most 0xff800000, so the sum stays below
  // 2^32 and `>>>` does not wrap. A carry out of the mantissa rounds up the exponent (max -> inf).
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

/** binary16 bits -> float32 bits (exact). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: normalise. value = mant * 2^-24; shift until the implicit bit (0x400) is set.
  let e = 113; // float32 biased exponent of 2^-14
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Rounds `x` to float32, then to binary16 bits (round to nearest even). */
export function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  return f32BitsToF16Bits(scratchU32[0]!);
}

/** The float value of binary16 bits `h` (the low 16 bits are used). */
export function f16BitsToF32(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h & 0xffff);
  return scratchF32[0]!;
}

/** Rounds `x` to float32, then to bfloat16 bits (round to nearest even). */
export function f32ToBf16Bits(x: number): number {
  scratchF32[0] = x;
  return f32BitsToBf16Bits(scratchU32[0]!);
}

/** The float value of bfloat16 bits `h` (the low 16 bits are used). */
export function bf16BitsToF32(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0]!;
}

function bitsOf(src: Float32Array): Uint32Array {
  return new Uint32Array(src.buffer, src.byteOffset, src.length);
}

export function encodeF16(src: Float32Array): Uint16Array {
  const bits = bitsOf(src);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16Bits(bits[i]!);
  return out;
}

// All 65536 results, built on first use: decoding is then one table load per value.
let f16Table: Uint32Array | undefined;

export function decodeF16(src: Uint16Array): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Uint32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  const table = f16Table;
  const out = new Float32Array(src.length);
  const outBits = bitsOf(out);
  for (let i = 0; i < src.length; i++) outBits[i] = table[src[i]!]!;
  return out;
}

export function encodeBf16(src: Float32Array): Uint16Array {
  const bits = bitsOf(src);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToBf16Bits(bits[i]!);
  return out;
}

export function decodeBf16(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const outBits = bitsOf(out);
  for (let i = 0; i < src.length; i++) outBits[i] = src[i]! << 16;
  return out;
}
