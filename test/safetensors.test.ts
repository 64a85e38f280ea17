import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensorsFile, readSafetensorsFile } from '../build/io/safetensors-file.js';
import { QuiverInputError } from '../shared/errors.js';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from '../shared/half.js';
import {
  parseSafetensorsHeader,
  readSafetensors,
  serializeSafetensors,
  type WritableTensor,
} from '../shared/safetensors.js';
import { requirePython, runPython } from './helpers/python.js';

const utf8 = new TextEncoder();

/** A safetensors file from a header string (padded with `pad` spaces) and raw data bytes. */
function fileOf(header: string | object, data: Uint8Array = new Uint8Array(0), pad = 0, length?: bigint): Uint8Array {
  const json = utf8.encode((typeof header === 'string' ? header : JSON.stringify(header)) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bytesOf(size: number, fill: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  fill(new DataView(out.buffer));
  return out;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const bitsOf = (a: Float32Array) => [...new Uint32Array(a.slice().buffer)];

describe('reading hand-built files', () => {
  // Data laid out by hand, not in the reference writer's order, with every dtype.
  const data = bytesOf(8 * 2 + 4 * 4 + 2 * 4 + 2 * 2 + 8 * 3 + 4 * 3 + 2 + 2 + 3 + 2, (v) => {
    let o = 0;
    v.setFloat64(o, 1.5, true), v.setFloat64(o + 8, 0.1, true), (o += 16); // F64 [2]        0..16
    for (const x of [1, -2, 3.5, 1e-3]) v.setFloat32(o, x, true), (o += 4); // F32 [2,2]     16..32
    for (const h of [0x3c00, 0xc000, 0x7bff, 0x0001]) v.setUint16(o, h, true), (o += 2); // F16 [4] 32..40
    for (const h of [0x3f80, 0xc040]) v.setUint16(o, h, true), (o += 2); // BF16 [2]             40..44
    for (const x of [1n, -5n, 2n ** 40n]) v.setBigInt64(o, x, true), (o += 8); // I64 [3]        44..68
    for (const x of [7, -1, 2 ** 31 - 1]) v.setInt32(o, x, true), (o += 4); // I32 [3]           68..80
    v.setInt16(o, -300, true), (o += 2); // I16 []  (a scalar)                                     80..82
    v.setInt8(o, -7), v.setInt8(o + 1, 100), (o += 2); // I8 [2]                                   82..84
    for (const x of [0, 200, 255]) v.setUint8(o++, x); // U8 [3]                                   84..87
    v.setUint8(o++, 1), v.setUint8(o++, 0); // BOOL [2]                                            87..89
  });
  const header =
    '{"f64":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},' +
    '"__metadata__":{"format":"pt","note":"\u00fcn\u00efcode"},' +
    '"f32":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},' +
    '"f16":{"dtype":"F16","shape":[4],"data_offsets":[32,40]},' +
    '"bf16":{"dtype":"BF16","shape":[2],"data_offsets":[40,44]},' +
    '"i64":{"dtype":"I64","shape":[3],"data_offsets":[44,68]},' +
    '"i32":{"dtype":"I32","shape":[3],"data_offsets":[68,80]},' +
    '"i16":{"dtype":"I16","shape":[],"data_offsets":[80,82]},' +
    '"i8":{"dtype":"I8","shape":[2],"data_offsets":[82,84]},' +
    '"u8":{"dtype":"U8","shape":[3],"data_offsets":[84,87]},' +
    '"flags":{"dtype":"BOOL","shape":[2],"data_offsets":[87,89]},' +
    '"empty":{"dtype":"F32","shape":[0,3],"data_offsets":[89,89]}}';

  const headerBytes = utf8.encode(header).length;

  for (const pad of [0, 1, 2, 3, 5]) {
    it(`decodes every dtype (header padded with ${pad} spaces, data at ${8 + headerBytes + pad})`, () => {
      const bytes = fileOf(header, data, pad);
      const f = readSafetensors(bytes, 'hand.safetensors');
      expect(f.header.headerLength).toBe(headerBytes + pad);
      expect(f.header.dataStart).toBe(8 + headerBytes + pad);
      expect(f.header.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
      expect(f.names()).toEqual(['f64', 'f32', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'flags', 'empty']);
      expect(f.info('f32')).toEqual({ dtype: 'F32', shape: [2, 2], dataOffsets: [16, 32] });
      expect([...f.float32('f64')]).toEqual([1.5, Math.fround(0.1)]);
      expect([...f.float32('f32')]).toEqual([1, -2, 3.5, Math.fround(1e-3)]);
      expect([...f.float32('f16')]).toEqual([1, -2, 65504, 2 ** -24]);
      expect([...f.float32('bf16')]).toEqual([1, -3]);
      expect(f.float32('empty').length).toBe(0);
      const i64 = f.int('i64');
      expect(i64).toBeInstanceOf(BigInt64Array);
      expect([...i64]).toEqual([1n, -5n, 2n ** 40n]);
      expect(f.int('i32')).toBeInstanceOf(Int32Array);
      expect([...f.int('i32')]).toEqual([7, -1, 2 ** 31 - 1]);
      expect([...f.int('i16')]).toEqual([-300]);
      expect([...f.int('i8')]).toEqual([-7, 100]);
      expect(f.int('u8')).toBeInstanceOf(Uint8Array);
      expect([...f.int('u8')]).toEqual([0, 200, 255]);
      expect([...f.int('flags')]).toEqual([1, 0]);
      // raw is a view into the file, at the right place
      const raw = f.raw('u8');
      expect(raw.buffer).toBe(bytes.buffer);
      expect(raw.byteOffset).toBe(f.header.dataStart + 84);
      expect([...raw]).toEqual([0, 200, 255]);
    });
  }

  it('returns an aligned F32 tensor as a view, and copies an unaligned one', () => {
    const h = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const data = bytesOf(8, (v) => (v.setFloat32(0, 0.25, true), v.setFloat32(4, -8, true)));
    const aligned = fileOf(h, data, (8 - ((8 + h.length) % 8)) % 8);
    const a = readSafetensors(aligned).float32('w');
    expect(a.buffer).toBe(aligned.buffer);
    expect([...a]).toEqual([0.25, -8]);
    const unaligned = fileOf(h, data, ((8 - ((8 + h.length) % 8)) % 8) + 1);
    const u = readSafetensors(unaligned).float32('w');
    expect(u.buffer).not.toBe(unaligned.buffer);
    expect([...u]).toEqual([0.25, -8]);
  });

  it('reads a file inside a larger buffer (non-zero byteOffset)', () => {
    const inner = fileOf('{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}', bytesOf(4, (v) => v.setInt32(0, -42, true)));
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 3);
    expect([...readSafetensors(outer.subarray(3, 3 + inner.length)).int('x')]).toEqual([-42]);
  });

  it('accepts an empty file with no tensors, and a header without metadata', () => {
    const f = readSafetensors(fileOf('{}', new Uint8Array(0), 6));
    expect(f.names()).toEqual([]);
    expect(f.header.metadata).toEqual({});
  });

  it('names the tensor and file for a missing tensor or the wrong accessor', () => {
    const f = readSafetensors(
      fileOf('{"ids":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)),
      'm.safetensors',
    );
    expect(() => f.info('nope')).toThrow(/m\.safetensors, tensor "nope": no tensor with this name/);
    expect(() => f.raw('nope')).toThrow(QuiverInputError);
    expect(() => f.float32('ids')).toThrow(/tensor "ids": dtype I32 is not a float type/);
    const g = readSafetensors(fileOf('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), 'g');
    expect(() => g.int('w')).toThrow(/dtype F32 is not an integer type/);
  });
});

describe('rejecting malformed files', () => {
  const w4 = (offsets: unknown, extra: object = {}) => ({ w: { dtype: 'F32', shape: [1], data_offsets: offsets, ...extra } });
  const reject = (bytes: Uint8Array, pattern: RegExp) => {
    let error: unknown;
    try {
      readSafetensors(bytes, 'bad.safetensors');
    } catch (err) {
      error = err;
    }
    expect(error, `expected an error matching ${pattern}`).toBeInstanceOf(QuiverInputError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).toMatch(/^bad\.safetensors/);
  };

  it('file shorter than 8 bytes', () => {
    reject(new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/);
    reject(new Uint8Array(7), /7 bytes, shorter than the 8-byte header length/);
  });

  it('absurd header length', () => {
    reject(fileOf('{}', new Uint8Array(0), 0, 200_000_000n), /header length 200000000 is absurd/);
    reject(fileOf('{}', new Uint8Array(0), 0, 2n ** 40n), /is absurd/);
  });

  it('header length larger than the file', () => {
    reject(fileOf('{}', new Uint8Array(0), 0, 100n), /header length 100 is larger than the file \(10 bytes\)/);
  });

  it('header not UTF-8', () => {
    const bytes = fileOf('{"a":"xx"}');
    bytes[14] = 0xff;
    bytes[15] = 0xfe;
    reject(bytes, /header is not valid UTF-8/);
  });

  it('header not JSON', () => {
    reject(fileOf('{"w": {"dtype": '), /header is not valid JSON/);
    reject(fileOf(''), /header is not valid JSON/);
  });

  it('header not an object', () => {
    reject(fileOf('[1,2]'), /header must be a JSON object/);
    reject(fileOf('null'), /header must be a JSON object/);
    reject(fileOf('42'), /header must be a JSON object/);
    reject(fileOf({ w: 5 }), /tensor "w": header entry must be an object/);
  });

  it('unknown dtype', () => {
    reject(fileOf({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor "w": unknown dtype "F8_E4M3"/);
    reject(fileOf({ w: { dtype: 'f32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /unknown dtype "f32"/);
    reject(fileOf({ w: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /unknown dtype undefined/);
  });

  it('shape not an array of non-negative integers', () => {
    for (const shape of [[-1], [1.5], '4', [1, '2'], null, [2 ** 53]]) {
      reject(
        fileOf({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, new Uint8Array(4)),
        /tensor "w": shape must be an array of non-negative integers/,
      );
    }
  });

  it('data_offsets not two integers', () => {
    for (const offsets of [[0], [0, 4, 8], [0, '4'], [-4, 0], [0.5, 4.5], undefined, {}]) {
      reject(fileOf(w4(offsets), new Uint8Array(4)), /tensor "w": data_offsets must be two non-negative integers/);
    }
  });

  it('data_offsets with begin after end', () => {
    reject(fileOf(w4([4, 0]), new Uint8Array(4)), /data_offsets \[4, 0\] have begin after end/);
  });

  it('byte length differs from shape x dtype size', () => {
    reject(
      fileOf({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 10] } }, new Uint8Array(10)),
      /tensor "w": data_offsets \[0, 10\] span 10 bytes but shape \[2, 3\] of F16 needs 12 bytes/,
    );
  });

  it('offsets out of range', () => {
    reject(fileOf(w4([4, 8]), new Uint8Array(6)), /tensor "w": data_offsets \[4, 8\] are out of range: the data buffer is 6 bytes/);
  });

  it('overlapping tensors', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    reject(fileOf(h, new Uint8Array(12)), /tensor "b": data_offsets \[4, 12\] overlap tensor "a", which ends at 8/);
  });

  it('holes between tensors, or before the first', () => {
    const h = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    reject(fileOf(h, new Uint8Array(12)), /tensor "b": .*leave a hole: bytes \[4, 8\)/);
    reject(fileOf(w4([4, 8]), new Uint8Array(8)), /tensor "w": .*leave a hole: bytes \[0, 4\)/);
  });

  it('trailing bytes after the last tensor', () => {
    reject(fileOf(w4([0, 4]), new Uint8Array(7)), /3 trailing bytes after the last tensor/);
    reject(fileOf('{}', new Uint8Array(1)), /1 trailing bytes after the last tensor/);
  });

  it('__metadata__ not a string to string map', () => {
    reject(fileOf({ __metadata__: { epochs: 3 } }), /__metadata__ must map strings to strings, but key "epochs" holds 3/);
    reject(fileOf({ __metadata__: ['a'] }), /__metadata__ must be an object of string to string/);
    reject(fileOf({ __metadata__: 'pt' }), /__metadata__ must be an object of string to string/);
    reject(fileOf({ __metadata__: null }), /__metadata__ must be an object of string to string/);
  });

  it('parses the header from a prefix only, checking against the full file size', () => {
    const h = '{"w":{"dtype":"F32","shape":[1024],"data_offsets":[0,4096]}}';
    const prefix = fileOf(h);
    const header = parseSafetensorsHeader(prefix, prefix.length + 4096, 'big.safetensors');
    expect(header.tensors.get('w')?.dataOffsets).toEqual([0, 4096]);
    expect(() => parseSafetensorsHeader(prefix, prefix.length + 4095, 'big.safetensors')).toThrow(/out of range/);
    expect(() => parseSafetensorsHeader(prefix.subarray(0, 20), prefix.length + 4096)).toThrow(RangeError);
  });
});

describe('the writer', () => {
  const values = Float32Array.from([0, -0, 1, -2.5, 1 / 3, 65504, 70000, 1e-7, -1e-30, 3e38, Infinity, NaN]);

  it('round-trips F32 exactly and F16/BF16 through RNE, with the data aligned to 8', () => {
    for (let nameLength = 1; nameLength <= 17; nameLength++) {
      const name = 'n'.repeat(nameLength);
      const bytes = serializeSafetensors([
        { name, dtype: 'F32', shape: [3, 4], data: values },
        { name: `${name}.h`, dtype: 'F16', shape: [12], data: values },
        { name: `${name}.b`, dtype: 'BF16', shape: [2, 2, 3], data: values },
      ]);
      const f = readSafetensors(bytes);
      expect((8 + f.header.headerLength) % 8).toBe(0);
      expect(f.header.dataStart % 8).toBe(0);
      expect(bitsOf(f.float32(name))).toEqual(bitsOf(values));
      expect(bitsOf(f.float32(`${name}.h`))).toEqual(bitsOf(decodeF16(encodeF16(values))));
      expect(bitsOf(f.float32(`${name}.b`))).toEqual(bitsOf(decodeBf16(encodeBf16(values))));
      expect(f.info(`${name}.b`).shape).toEqual([2, 2, 3]);
      expect(f.header.metadata).toEqual({});
      const headerText = new TextDecoder().decode(bytes.subarray(8, f.header.dataStart));
      expect(headerText).not.toContain('__metadata__');
      expect(headerText).toMatch(/^\{.*\} *$/);
    }
  });

  it('writes I32 and U8, scalars and empty tensors', () => {
    const bytes = serializeSafetensors([
      { name: 'ids', dtype: 'I32', shape: [3], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) },
      { name: 'mask', dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) },
      { name: 'scale', dtype: 'F32', shape: [], data: Float32Array.from([0.5]) },
      { name: 'none', dtype: 'F16', shape: [0, 4], data: new Float32Array(0) },
    ]);
    const f = readSafetensors(bytes);
    expect([...f.int('ids')]).toEqual([-1, 0, 2 ** 31 - 1]);
    expect([...f.int('mask')]).toEqual([0, 255]);
    expect([...f.float32('scale')]).toEqual([0.5]);
    expect(f.info('none')).toEqual({ dtype: 'F16', shape: [0, 4], dataOffsets: expect.any(Array) });
  });

  it('orders by dtype (descending alignment) then name, and is deterministic', () => {
    const tensors: WritableTensor[] = [
      { name: 'b', dtype: 'F16', shape: [1], data: Float32Array.from([1]) },
      { name: 'a', dtype: 'U8', shape: [1], data: Uint8Array.from([1]) },
      { name: '10', dtype: 'F32', shape: [1], data: Float32Array.from([1]) },
      { name: '2', dtype: 'F32', shape: [1], data: Float32Array.from([2]) },
      { name: 'z', dtype: 'BF16', shape: [1], data: Float32Array.from([1]) },
      { name: 'c', dtype: 'I32', shape: [1], data: Int32Array.from([1]) },
      { name: 'a16', dtype: 'F16', shape: [1], data: Float32Array.from([1]) },
    ];
    const bytes = serializeSafetensors(tensors, { format: 'pt', b: 'x', a: 'y' });
    const again = serializeSafetensors([...tensors].reverse(), { a: 'y', format: 'pt', b: 'x' });
    expect(again).toEqual(bytes);
    const f = readSafetensors(bytes);
    expect(f.names()).toEqual(['10', '2', 'c', 'z', 'a16', 'b', 'a']);
    const text = new TextDecoder().decode(bytes.subarray(8, f.header.dataStart)).trimEnd();
    expect(text.startsWith('{"__metadata__":{"a":"y","b":"x","format":"pt"},"10":')).toBe(true);
    expect(f.header.metadata).toEqual({ a: 'y', b: 'x', format: 'pt' });
  });

  it('rejects duplicate names, wrong data length, bad shapes and the reserved name', () => {
    const t = (name: string, shape: number[], n: number): WritableTensor => ({ name, dtype: 'F32', shape, data: new Float32Array(n) });
    expect(() => serializeSafetensors([t('w', [1], 1), t('w', [1], 1)])).toThrow(/tensor "w": duplicate tensor name/);
    expect(() => serializeSafetensors([t('w', [2, 3], 5)])).toThrow(/tensor "w": data has 5 values but shape \[2, 3\] needs 6/);
    expect(() => serializeSafetensors([t('w', [-1], 1)])).toThrow(/shape must be an array of non-negative integers/);
    expect(() => serializeSafetensors([t('__metadata__', [1], 1)])).toThrow(/reserved/);
    expect(() => serializeSafetensors([], { n: 3 as unknown as string })).toThrow(QuiverInputError);
  });
});

describe('against numpy (independent reference)', () => {
  it('has python3 with numpy (install python3-numpy)', () => {
    expect(requirePython()).toBeTruthy();
  });

  it('decodes a file that numpy + struct + json built, with its own layout', () => {
    const script = `
import json, struct, base64, numpy as np
rng = np.random.default_rng(7)
src = np.concatenate([rng.standard_normal(40).astype(np.float32) * 3,
                      np.array([0.0, -0.0, 1e-6, 6e-8, 65504, 65519, 65520, 7e4, -7e4, 1e-40, 3e38], np.float32)])
def bf16_bits(x):
    b = x.view(np.uint32).astype(np.uint64)
    return ((b + 0x7fff + ((b >> 16) & 1)) >> 16).astype(np.uint16)
with np.errstate(all='ignore'):
    f16 = src.astype(np.float16)
bf = bf16_bits(src)
tensors = [  # (name, dtype, shape, little-endian bytes, expected values, kind)
    ('model.w_bf16', 'BF16', [51], bf.astype('<u2').tobytes(), (bf.astype(np.uint32) << 16).view(np.float32), 'f'),
    ('a.f16', 'F16', [3, 17], f16.astype('<f2').tobytes(), f16.astype(np.float32), 'f'),
    ('odd', 'U8', [5], np.array([1, 2, 3, 250, 0], np.uint8).tobytes(), np.array([1, 2, 3, 250, 0]), 'i'),
    ('z.f32', 'F32', [51, 1], src.astype('<f4').tobytes(), src, 'f'),
    ('ids', 'I64', [4], np.array([-1, 2**40, 0, 7], '<i8').tobytes(), np.array([-1, 2**40, 0, 7]), 'i'),
    ('f64', 'F64', [2], np.array([0.1, -1e300], '<f8').tobytes(), np.array([0.1, -1e300]).astype(np.float32), 'f'),
    ('pos', 'I32', [3], np.array([-5, 0, 2**31 - 1], '<i4').tobytes(), np.array([-5, 0, 2**31 - 1]), 'i'),
    ('mask', 'BOOL', [3], np.array([True, False, True]).tobytes(), np.array([1, 0, 1]), 'i'),
]
header, data, expected = {'__metadata__': {'source': 'numpy', 'n': '51'}}, b'', {}
for name, dtype, shape, raw, values, kind in tensors:  # file order = list order, not the writer's
    header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
    data += raw
    exp = values.astype('<f4') if kind == 'f' else values.astype('<i8')
    expected[name] = {'kind': kind, 'dtype': dtype, 'shape': shape, 'values': base64.b64encode(exp.tobytes()).decode()}
h = json.dumps(header, indent=1).encode()  # whitespace and newlines, unlike our writer
h += b' ' * (3 - len(h) % 4 + 4)  # deliberately leaves the data unaligned
blob = struct.pack('<Q', len(h)) + h + data
print(json.dumps({'file': base64.b64encode(blob).decode(), 'expected': expected}))
`;
    const out = JSON.parse(new TextDecoder().decode(runPython(script))) as {
      file: string;
      expected: Record<string, { kind: 'f' | 'i'; dtype: string; shape: number[]; values: string }>;
    };
    const bytes = fromB64(out.file);
    const f = readSafetensors(bytes, 'numpy.safetensors');
    expect(f.header.dataStart % 4).not.toBe(0);
    expect(f.header.metadata).toEqual({ source: 'numpy', n: '51' });
    expect(f.names()).toEqual(Object.keys(out.expected));
    for (const [name, e] of Object.entries(out.expected)) {
      expect(f.info(name).dtype).toBe(e.dtype);
      expect(f.info(name).shape).toEqual(e.shape);
      if (e.kind === 'f') {
        const want = new Float32Array(fromB64(e.values).buffer);
        expect(bitsOf(f.float32(name)), name).toEqual(bitsOf(want));
      } else {
        const want = [...new BigInt64Array(fromB64(e.values).buffer)];
        expect([...f.int(name)].map((v) => BigInt(v)), name).toEqual(want);
      }
    }
  });

  it("writes files that a numpy + json parser reads back to numpy's own conversions", () => {
    const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 10 ** ((i % 9) - 4));
    const src = rand(60, 1);
    src.set([0, -0, 65504, 65520, 1e-7, 6e-8, 2 ** -25, 3e38, -Infinity], 0);
    const tensors: WritableTensor[] = [
      { name: 'layers.0.w', dtype: 'F32', shape: [6, 10], data: src },
      { name: 'layers.0.h', dtype: 'F16', shape: [60], data: src },
      { name: 'layers.0.b', dtype: 'BF16', shape: [3, 20], data: src },
      { name: 'ids', dtype: 'I32', shape: [2], data: Int32Array.from([-3, 9]) },
      { name: 'mask', dtype: 'U8', shape: [3], data: Uint8Array.from([1, 0, 255]) },
    ];
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'ünï' });
    const spec = tensors.map((t) => ({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      values: b64(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
    }));
    const script = `
import sys, json, struct, base64, numpy as np
blob = sys.stdin.buffer.read()
spec = json.loads(sys.argv[1])
(n,) = struct.unpack('<Q', blob[:8])
assert (8 + n) % 8 == 0, f'data starts at {8 + n}, not a multiple of 8'
raw_header = blob[8:8 + n].decode('utf-8')
assert raw_header.rstrip(' ') == raw_header.strip(), 'only trailing spaces as padding'
header = json.loads(raw_header)
meta = header.pop('__metadata__', None)
data = blob[8 + n:]
spans = sorted((v['data_offsets'][0], v['data_offsets'][1], k) for k, v in header.items())
pos = 0
for b, e, k in spans:
    assert b == pos, f'{k} starts at {b}, expected {pos}'
    pos = e
assert pos == len(data), 'tensors must cover the data exactly'
size = {'F32': 4, 'F16': 2, 'BF16': 2, 'I32': 4, 'U8': 1}
for t in spec:
    info = header[t['name']]
    assert info['dtype'] == t['dtype'] and info['shape'] == t['shape'], t['name']
    b, e = info['data_offsets']
    raw = data[b:e]
    assert len(raw) == int(np.prod(t['shape'])) * size[t['dtype']], t['name']
    dt = t['dtype']
    src = np.frombuffer(base64.b64decode(t['values']), {'I32': '<i4', 'U8': 'u1'}.get(dt, '<f4'))
    if dt == 'F32':
        ok = np.array_equal(np.frombuffer(raw, '<f4').view('<u4'), src.view('<u4'))
    elif dt == 'F16':
        with np.errstate(all='ignore'):
            ok = np.array_equal(np.frombuffer(raw, '<u2'), src.astype(np.float16).view('<u2'))
    elif dt == 'BF16':
        x = src.view('<u4').astype(np.uint64)
        ok = np.array_equal(np.frombuffer(raw, '<u2'), ((x + 0x7fff + ((x >> 16) & 1)) >> 16).astype(np.uint16))
    else:
        ok = np.array_equal(np.frombuffer(raw, src.dtype), src)
    assert ok, f'values of {t["name"]} differ from numpy'
print(json.dumps({'keys': list(json.loads(raw_header).keys()), 'order': [k for _, _, k in spans], 'metadata': meta}))
`;
    const report = JSON.parse(new TextDecoder().decode(runPython(script, bytes, [JSON.stringify(spec)]))) as {
      keys: string[];
      order: string[];
      metadata: Record<string, string>;
    };
    expect(report.order).toEqual(['layers.0.w', 'ids', 'layers.0.b', 'layers.0.h', 'mask']);
    expect(report.keys).toEqual(['__metadata__', ...report.order]);
    expect(report.metadata).toEqual({ format: 'pt', note: 'ünï' });
  });
});

describe('reading from disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quiver-st-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const tensors: WritableTensor[] = [
    { name: 'a', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b', dtype: 'BF16', shape: [2], data: Float32Array.from([-1, 0.5]) },
    { name: 'c', dtype: 'I32', shape: [1], data: Int32Array.from([77]) },
  ];

  it('opens the header only and reads one tensor at a time', async () => {
    const path = join(dir, 'model.safetensors');
    const bytes = serializeSafetensors(tensors, { k: 'v' });
    await writeFile(path, bytes);
    const file = await openSafetensorsFile(path);
    try {
      expect(file.names()).toEqual(['a', 'c', 'b']);
      expect(file.header.metadata).toEqual({ k: 'v' });
      expect(file.info('b').dtype).toBe('BF16');
      expect([...(await file.readFloat32('a'))]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...(await file.readFloat32('b'))]).toEqual([-1, 0.5]);
      expect(await file.readRaw('c')).toEqual(readSafetensors(bytes).raw('c').slice());
      await expect(file.readRaw('missing')).rejects.toThrow(/model\.safetensors, tensor "missing": no tensor/);
    } finally {
      await file.close();
    }
    const whole = await readSafetensorsFile(path);
    expect([...whole.float32('a')]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...whole.int('c')]).toEqual([77]);
  });

  it('reports malformed files with their path', async () => {
    const path = join(dir, 'broken.safetensors');
    await writeFile(path, fileOf({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(5)));
    await expect(openSafetensorsFile(path)).rejects.toThrow(/broken\.safetensors, tensor "w": .*out of range/);
    const tiny = join(dir, 'tiny.safetensors');
    await writeFile(tiny, new Uint8Array(3));
    await expect(openSafetensorsFile(tiny)).rejects.toThrow(/tiny\.safetensors: file is 3 bytes, shorter than/);
    const cut = join(dir, 'cut.safetensors');
    await writeFile(cut, fileOf('{}', new Uint8Array(0), 0, 4096n));
    await expect(openSafetensorsFile(cut)).rejects.toThrow(/header length 4096 is larger than the file/);
    await expect(readSafetensorsFile(cut)).rejects.toThrow(QuiverInputError);
  });
});
