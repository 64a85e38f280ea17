import { describe, expect, it } from 'vitest';
import { decodeManifest, encodeManifest, prototypeTensorName, type ManifestInput } from '../shared/manifest/manifest-codec.js';
import { MANIFEST_METADATA_KEY } from '../shared/manifest/schema.js';
import { Rng } from '../shared/random.js';
import { readSafetensors, serializeSafetensors } from '../shared/safetensors.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { runPython } from './helpers/python.js';

function sampleInput(): ManifestInput {
  const rng = new Rng(9);
  const modules = [
    { key: 'model.layers.0.self_attn.q_proj', layer: 0, module: 'self_attn.q_proj', dIn: 8 },
    { key: 'model.layers.1.self_attn.q_proj', layer: 1, module: 'self_attn.q_proj', dIn: 8 },
  ];
  const adapters = ['a', 'b', 'c'].map((id) => ({ id, kind: 'imported' as const, tasks: [], r: 4, loraAlpha: 16, cluster: null, source: id }));
  return {
    baseModel: 'quiver/tiny',
    embedder: null,
    modules,
    adapters,
    routing: { topK: 2, temperature: 1, threshold: 0, votes: 'site' },
    prototypes: new Map(modules.map((m) => [m.key, rng.normals(3 * m.dIn, 0.3)])),
    // Centred routing on the first module only: the second routes on its raw input.
    centres: new Map([[modules[0]!.key, rng.normals(modules[0]!.dIn, 2)]]),
  };
}

/** Rewrites a manifest's metadata JSON or tensors, keeping everything else, to forge bad files. */
function rewrite(bytes: Uint8Array, edit: (md: Record<string, unknown>) => void, tensors?: (t: ReturnType<typeof readTensors>) => void) {
  const file = readSafetensors(bytes);
  const md = JSON.parse(file.header.metadata[MANIFEST_METADATA_KEY]!) as Record<string, unknown>;
  edit(md);
  const ts = readTensors(file);
  tensors?.(ts);
  return serializeSafetensors(ts, { [MANIFEST_METADATA_KEY]: canonicalJson(md) });
}
function readTensors(file: ReturnType<typeof readSafetensors>) {
  return file.names().map((name) => ({ name, dtype: file.info(name).dtype as 'F16' | 'F32', shape: file.info(name).shape, data: file.float32(name) }));
}

describe('routing manifest', () => {
  it('round-trips: metadata as written, prototypes equal to F16 rounding', async () => {
    const input = sampleInput();
    const bytes = await encodeManifest(input);
    const m = await decodeManifest(bytes, 'x.safetensors');
    expect(m.metadata.adapters).toEqual(input.adapters);
    expect(m.metadata.modules.map((x) => x.tensor)).toEqual(input.modules.map((x) => prototypeTensorName(x.key)));
    expect(m.metadata.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const mod of input.modules) {
      const want = input.prototypes.get(mod.key)!;
      const got = m.prototypes.get(mod.key)!;
      want.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -24));
    }
  });

  it('is byte-reproducible and its F16 payload and checksum agree with numpy and hashlib', async () => {
    const input = sampleInput();
    const bytes = await encodeManifest(input);
    expect(await encodeManifest(input)).toEqual(bytes);
    const out = runPython(
      String.raw`
import json, struct, sys, hashlib
import numpy as np
raw = sys.stdin.buffer.read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n]); data = raw[8 + n:]
md = json.loads(h["__metadata__"]["quiver.manifest"])
stored = md.pop("checksum")
hh = hashlib.sha256(json.dumps(md, sort_keys=True, separators=(",", ":")).encode())
vals = {}
for m in md["modules"]:
    b0, b1 = h[m["tensor"]]["data_offsets"]
    hh.update(data[b0:b1])
    vals[m["key"]] = np.frombuffer(data[b0:b1], dtype="<f2").astype(np.float32).tolist()
centres = {}
for m in md["modules"]:
    if m["centre"] is None:
        continue
    b0, b1 = h[m["centre"]]["data_offsets"]
    hh.update(data[b0:b1])
    centres[m["key"]] = np.frombuffer(data[b0:b1], dtype="<f4").tolist()
print(json.dumps({"ok": stored == "sha256:" + hh.hexdigest(), "vals": vals, "centres": centres}))`,
      bytes,
    );
    const ref = JSON.parse(new TextDecoder().decode(out)) as { ok: boolean; vals: Record<string, number[]>; centres: Record<string, number[]> };
    expect(ref.ok).toBe(true);
    const m = await decodeManifest(bytes);
    for (const [key, vals] of Object.entries(ref.vals)) expect(Array.from(m.prototypes.get(key)!)).toEqual(vals);
    // The centre is stored exactly (F32), for the first module only.
    expect(Object.keys(ref.centres)).toEqual([input.modules[0]!.key]);
    expect(ref.centres[input.modules[0]!.key]).toEqual(Array.from(input.centres!.get(input.modules[0]!.key)!));
    expect([...m.centres.keys()]).toEqual([input.modules[0]!.key]);
    expect(m.metadata.modules.map((x) => x.centre)).toEqual([`centres.${input.modules[0]!.key}`, null]);
    // numpy's float16 rounding of the float32 input is what is stored
    const rounded = runPython(
      'import sys, json, numpy as np; print(json.dumps(np.frombuffer(sys.stdin.buffer.read(), dtype="<f4").astype(np.float16).astype(np.float32).tolist()))',
      new Uint8Array(input.prototypes.get(input.modules[0]!.key)!.buffer),
    );
    expect(Array.from(m.prototypes.get(input.modules[0]!.key)!)).toEqual(JSON.parse(new TextDecoder().decode(rounded)));
  });

  it('refuses a flipped byte (checksum), naming the file', async () => {
    const bytes = await encodeManifest(sampleInput());
    const bad = bytes.slice();
    bad[bad.length - 3] = bad[bad.length - 3]! ^ 0x40;
    await expect(decodeManifest(bad, 'lib/manifest.safetensors')).rejects.toThrow(/lib\/manifest.safetensors: checksum mismatch/);
  });

  it('refuses another version, another format, and edited metadata', async () => {
    const bytes = await encodeManifest(sampleInput());
    await expect(decodeManifest(rewrite(bytes, (md) => (md.version = 4)))).rejects.toThrow(/manifest version 4 is not supported.*reads version 3/);
    // A manifest of the format before vote units (version 2, whose routing has no `votes`): refused with the command that rebuilds it.
    await expect(decodeManifest(rewrite(bytes, (md) => { md.version = 2; delete (md.routing as { votes?: string }).votes; }), 'old/manifest.safetensors')).rejects.toThrow(
      /old\/manifest.safetensors: manifest version 2 is older than this Quiver reads \(version 3, which records how routing counts its votes\): recompile it with `quiver compile <library> --out <folder>`/,
    );
    await expect(decodeManifest(rewrite(bytes, (md) => ((md.routing as { votes: string }).votes = 'layer')))).rejects.toThrow(/routing.votes/);
    await expect(decodeManifest(rewrite(bytes, (md) => (md.format = 'other')))).rejects.toThrow(/format is "other"/);
    await expect(decodeManifest(rewrite(bytes, (md) => (md.baseModel = 'evil')))).rejects.toThrow(/checksum mismatch/);
    await expect(decodeManifest(rewrite(bytes, (md) => ((md.routing as { topK: number }).topK = 0)))).rejects.toThrow(/routing.topK/);
    await expect(decodeManifest(rewrite(bytes, (md) => (md.extra = 1)))).rejects.toThrow(/invalid manifest metadata.*extra/);
  });

  it('refuses shapes that do not match the metadata, and missing or extra tensors', async () => {
    const bytes = await encodeManifest(sampleInput());
    await expect(
      decodeManifest(rewrite(bytes, () => {}, (ts) => {
        const t = ts.find((x) => x.name.startsWith('prototypes.'))!;
        t.shape = [4, 6];
      })),
    ).rejects.toThrow(/has shape \[4, 6\], expected \[3, 8\]/);
    await expect(decodeManifest(rewrite(bytes, () => {}, (ts) => void ts.pop()))).rejects.toThrow(/prototype tensor .* is missing/);
    await expect(
      decodeManifest(rewrite(bytes, () => {}, (ts) => void ts.push({ name: 'junk', dtype: 'F16', shape: [1], data: new Float32Array(1) }))),
    ).rejects.toThrow(/tensor "junk" is not a routed module/);
    await expect(decodeManifest(serializeSafetensors([], { other: 'x' }), 'm')).rejects.toThrow(/m: not a Quiver routing manifest/);
  });

  it('checks the centres: shape and dtype on read, a routed module, its d_in and finite values on write', async () => {
    const input = sampleInput();
    const bytes = await encodeManifest(input);
    const centre = `centres.${input.modules[0]!.key}`;
    await expect(decodeManifest(rewrite(bytes, () => {}, (ts) => {
          const t = ts.find((x) => x.name === centre)!;
          t.shape = [4];
          t.data = t.data.subarray(0, 4);
        }))).rejects.toThrow(/centre tensor "centres.model.layers.0.self_attn.q_proj" has shape \[4\], expected \[8\]/);
    await expect(decodeManifest(rewrite(bytes, () => {}, (ts) => void (ts.find((t) => t.name === centre)!.dtype = 'F16' as 'F32')))).rejects.toThrow(/is F16, expected F32/);
    await expect(decodeManifest(rewrite(bytes, () => {}, (ts) => void ts.splice(ts.findIndex((t) => t.name === centre), 1)))).rejects.toThrow(/centre tensor .* is missing/);
    await expect(decodeManifest(rewrite(bytes, () => {}, (ts) => {
          const t = ts.find((x) => x.name === centre)!;
          t.data[0] = t.data[0]! + 1;
        }))).rejects.toThrow(/checksum mismatch/);
    await expect(encodeManifest({ ...input, centres: new Map([['model.layers.5.self_attn.q_proj', new Float32Array(8)]]) })).rejects.toThrow(/not a routed module/);
    await expect(encodeManifest({ ...input, centres: new Map([[input.modules[0]!.key, new Float32Array(7)]]) })).rejects.toThrow(/has 7 values, expected d_in 8/);
    await expect(encodeManifest({ ...input, centres: new Map([[input.modules[0]!.key, new Float32Array(8).fill(Number.NaN)]]) })).rejects.toThrow(/not finite/);
  });

  it('refuses duplicate adapter ids and prototype counts that do not match', async () => {
    const input = sampleInput();
    await expect(encodeManifest({ ...input, adapters: [...input.adapters.slice(0, 2), { ...input.adapters[0]! }] })).rejects.toThrow(/adapter id "a" appears twice/);
    await expect(encodeManifest({ ...input, adapters: input.adapters.slice(0, 2) })).rejects.toThrow(/expected 2 adapters × 8/);
  });
});
