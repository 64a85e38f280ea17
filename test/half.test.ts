import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
} from '../shared/half.js';
import { requirePython, runPython } from './helpers/python.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsToF32(b: number): number {
  u32[0] = b;
  return f32[0]!;
}
const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
const isF32NaNBits = (b: number) => (b & 0x7fffffff) > 0x7f800000;

/** float32 bit patterns that stress the conversions: every range, ties, neighbours of ties. */
function testBits(): Uint32Array {
  const rand = mulberry32(12345);
  const out: number[] = [];
  const edges = [
    0, -0, 1, -1, 65504, -65504, 65519, 65519.996, 65520, -65520, 65536, 1e10, 2 ** -14, 2 ** -24, 2 ** -25,
    2 ** -25 * (1 + 2 ** -23), 3 * 2 ** -25, 2 ** -14 - 2 ** -25, 1e-8, 1e-45, 3.4028234663852886e38,
    -3.4028234663852886e38, 1 / 3, Math.PI, Infinity, -Infinity, NaN,
  ];
  for (const x of edges) {
    f32[0] = x;
    out.push(u32[0]!);
  }
  out.push(0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xff800001, 0x00000001, 0x007fffff, 0x80000001);
  const sign = () => (rand() & 1) << 31;
  for (let i = 0; i < 50_000; i++) out.push(rand()); // anything, NaNs included
  for (let i = 0; i < 100_000; i++) {
    const exp = 95 + (rand() % 55); // f16 flush-to-zero ... overflow, and bf16 normal range
    out.push((sign() | (exp << 23) | (rand() & 0x7fffff)) >>> 0);
  }
  for (let i = 0; i < 50_000; i++) {
    const exp = 100 + (rand() % 45);
    let mant = rand() & 0x7fffff;
    const kind = rand() % 3;
    // exact f16 ties for normals (low 13 bits = 0x1000) and bf16 ties (low 16 bits = 0x8000)
    if (kind === 0) mant = (mant & ~0x1fff) | 0x1000;
    else if (kind === 1) mant = (mant & ~0xffff) | 0x8000;
    else {
      // f16 subnormal ties: value in units of 2^-24 has fraction exactly 1/2
      const e = Math.min(112, Math.max(102, exp));
      const shift = 126 - e;
      mant = (mant & ~((1 << shift) - 1) & 0x7fffff) | (1 << (shift - 1));
      out.push((sign() | (e << 23) | mant) >>> 0);
      continue;
    }
    mant = (mant + ((rand() % 3) - 1)) & 0x7fffff; // the tie or a neighbour
    out.push((sign() | (exp << 23) | mant) >>> 0);
  }
  return Uint32Array.from(out);
}

const NUMPY_ENCODE = `
import sys, numpy as np
x = np.frombuffer(sys.stdin.buffer.read(), dtype='<u4')
with np.errstate(all='ignore'):
    f16 = x.view('<f4').astype(np.float16).view('<u2')
b = x.astype(np.uint64)
bf16 = ((b + 0x7fff + ((b >> 16) & 1)) >> 16).astype('<u2')  # RNE; NaNs are checked apart
sys.stdout.buffer.write(f16.astype('<u2').tobytes() + bf16.tobytes())
`;

describe('half-precision against numpy', () => {
  it('has python3 with numpy (install python3-numpy)', () => {
    expect(requirePython()).toBeTruthy();
  });

  it('encodes float32 to f16 and bf16 exactly like numpy, incl. ties, subnormals, overflow', () => {
    const bits = testBits();
    const out = runPython(NUMPY_ENCODE, new Uint8Array(bits.buffer));
    const ref = new Uint16Array(out.slice().buffer);
    const n = bits.length;
    expect(ref.length).toBe(2 * n);
    const values = new Float32Array(bits.buffer);
    const f16 = encodeF16(values);
    const bf16 = encodeBf16(values);
    let checked = 0;
    for (let i = 0; i < n; i++) {
      const b = bits[i]!;
      const x = bitsToF32(b);
      if (isF32NaNBits(b)) {
        expect(isF16NaN(f16[i]!), `f16 of NaN bits ${b.toString(16)}`).toBe(true);
        expect(isBf16NaN(bf16[i]!), `bf16 of NaN bits ${b.toString(16)}`).toBe(true);
        expect(isF16NaN(f32ToF16Bits(x))).toBe(true);
        continue;
      }
      if (f16[i] !== ref[i]) {
        expect.fail(`f16 of ${x} (bits 0x${b.toString(16)}): got 0x${f16[i]!.toString(16)}, numpy 0x${ref[i]!.toString(16)}`);
      }
      if (bf16[i] !== ref[n + i]) {
        expect.fail(`bf16 of ${x} (bits 0x${b.toString(16)}): got 0x${bf16[i]!.toString(16)}, ref 0x${ref[n + i]!.toString(16)}`);
      }
      if (f32ToF16Bits(x) !== f16[i] || f32ToBf16Bits(x) !== bf16[i]) expect.fail(`scalar differs from array for ${x}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(190_000);
  });

  it('decodes all 65536 f16 and bf16 patterns like numpy', () => {
    const all = new Uint16Array(0x10000);
    for (let h = 0; h < all.length; h++) all[h] = h;
    const script = `
import sys, numpy as np
h = np.frombuffer(sys.stdin.buffer.read(), dtype='<u2')
f16 = h.view(np.float16).astype(np.float32).view('<u4')
bf16 = (h.astype(np.uint32) << 16).astype('<u4')
sys.stdout.buffer.write(f16.tobytes() + bf16.tobytes())
`;
    const ref = new Uint32Array(runPython(script, new Uint8Array(all.buffer)).slice().buffer);
    const f16 = new Uint32Array(decodeF16(all).buffer);
    const bf16 = new Uint32Array(decodeBf16(all).buffer);
    const wrong: string[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const r16 = ref[h]!;
      const rbf = ref[0x10000 + h]!;
      const f16Ok = isF32NaNBits(r16)
        ? isF32NaNBits(f16[h]!) && Number.isNaN(f16BitsToF32(h))
        : f16[h] === r16 && Object.is(f16BitsToF32(h), bitsToF32(r16));
      const scalar = bf16BitsToF32(h);
      const bfOk = bf16[h] === rbf && (Number.isNaN(scalar) ? isF32NaNBits(rbf) : Object.is(scalar, bitsToF32(rbf)));
      if (!f16Ok) wrong.push(`f16 0x${h.toString(16)}: got bits 0x${f16[h]!.toString(16)}, numpy 0x${r16.toString(16)}`);
      if (!bfOk) wrong.push(`bf16 0x${h.toString(16)}: got bits 0x${bf16[h]!.toString(16)}, numpy 0x${rbf.toString(16)}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});

describe('half-precision hand-checked values', () => {
  it('f16 edge cases', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0, 0x0000],
      [-0, 0x8000],
      [65504, 0x7bff], // largest finite
      [65519, 0x7bff], // below the midpoint to inf
      [65520, 0x7c00], // the midpoint: ties to even, i.e. to inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie between 0 and 2^-24: to even 0
      [-(2 ** -25), 0x8000],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units: to even 2
      [2 ** -25 * (1 + 2 ** -10), 0x0001], // just above the tie
      [2 ** -14 - 2 ** -25, 0x0400], // tie between largest subnormal and smallest normal
      [1 + 2 ** -11, 0x3c00], // tie between 1 and next: to even
      [1 + 3 * 2 ** -11, 0x3c02], // tie between odd and even: up
      [1e-9, 0x0000],
    ];
    for (const [x, h] of cases) expect(f32ToF16Bits(x), `f16(${x})`).toBe(h);
    expect(isF16NaN(f32ToF16Bits(NaN))).toBe(true);
    expect(Number.isNaN(f16BitsToF32(0x7e00))).toBe(true);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125);
  });

  it('bf16 edge cases', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3f80],
      [-3, 0xc040],
      [-0, 0x8000],
      [1 + 2 ** -8, 0x3f80], // tie: to even
      [1 + 3 * 2 ** -8, 0x3f82], // tie: up to even
      [3.4028234663852886e38, 0x7f80], // max float32 rounds up to inf
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [1e-45, 0x0000], // float32 subnormal 2^-149 rounds to 0
    ];
    for (const [x, h] of cases) expect(f32ToBf16Bits(x), `bf16(${x})`).toBe(h);
    expect(isBf16NaN(f32ToBf16Bits(NaN))).toBe(true);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc040)).toBe(-3);
    expect(Number.isNaN(bf16BitsToF32(0x7fc0))).toBe(true);
  });

  it('keeps NaN payloads a NaN in arrays, never inf', () => {
    const nanBits = new Uint32Array([0x7f800001, 0xff800001, 0x7fc00000, 0x7f802000, 0x7fffffff]);
    const values = new Float32Array(nanBits.buffer);
    for (const h of encodeF16(values)) expect(isF16NaN(h)).toBe(true);
    for (const h of encodeBf16(values)) expect(isBf16NaN(h)).toBe(true);
  });

  it('works on subarray views', () => {
    const base = new Float32Array([9, 1, -2, 0.5, 9]);
    const view = base.subarray(1, 4);
    expect([...encodeF16(view)]).toEqual([0x3c00, 0xc000, 0x3800]);
    expect([...decodeF16(encodeF16(view))]).toEqual([1, -2, 0.5]);
    expect([...decodeBf16(encodeBf16(view))]).toEqual([1, -2, 0.5]);
  });
});
