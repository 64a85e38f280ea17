import { describe, expect, it } from 'vitest';
import { createApp } from '../edge/app.js';
import { ManifestStore } from '../edge/manifest-store.js';
import { encodeManifest } from '../shared/manifest/manifest-codec.js';
import { Rng } from '../shared/random.js';
import { MemoryBucket } from './helpers/memory-bucket.js';

async function manifestBytes(ids: string[]): Promise<Uint8Array> {
  const rng = new Rng(ids.length);
  const modules = [{ key: 'model.layers.0.self_attn.q_proj', layer: 0, module: 'self_attn.q_proj', dIn: 4 }];
  return encodeManifest({
    baseModel: 'quiver/tiny',
    embedder: null,
    modules,
    adapters: ids.map((id) => ({ id, kind: 'private' as const, tasks: [id], r: 4, loraAlpha: 16, cluster: null, source: null })),
    routing: { topK: 2, temperature: 1, threshold: 0 },
    prototypes: new Map([[modules[0]!.key, rng.normals(ids.length * 4)]]),
  });
}

describe('edge app', () => {
  it('serves the adapter table of the stored manifest', async () => {
    const bucket = new MemoryBucket();
    bucket.put('m', await manifestBytes(['a', 'b']));
    const app = createApp({ store: new ManifestStore(bucket, 'm') });
    const res = await app.request('/v1/adapters');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { adapters: Array<{ id: string }>; routing: unknown; baseModel: string };
    expect(body.adapters.map((a) => a.id)).toEqual(['a', 'b']);
    expect(body.routing).toEqual({ topK: 2, temperature: 1, threshold: 0 });
    expect((await (await app.request('/healthz')).json()) as object).toMatchObject({ ok: true, adapters: 2, modules: 1 });
  });

  it('picks up a new manifest after the recheck interval, without re-downloading an unchanged one', async () => {
    const bucket = new MemoryBucket();
    bucket.put('m', await manifestBytes(['a']));
    let now = 0;
    const app = createApp({ store: new ManifestStore(bucket, 'm', 1000, () => now) });
    await app.request('/v1/adapters');
    now = 5000;
    await app.request('/v1/adapters');
    expect(bucket.gets).toBe(1); // same etag: decoded once
    bucket.put('m', await manifestBytes(['a', 'b', 'c']));
    now = 5500;
    expect(((await (await app.request('/v1/adapters')).json()) as { adapters: unknown[] }).adapters).toHaveLength(1); // within the interval
    now = 7000;
    expect(((await (await app.request('/v1/adapters')).json()) as { adapters: unknown[] }).adapters).toHaveLength(3);
  });

  it('answers 503 with a reason, never crashes, when the manifest is missing or corrupt', async () => {
    const bucket = new MemoryBucket();
    const app = createApp({ store: new ManifestStore(bucket, 'm', 0) });
    const missing = await app.request('/v1/adapters');
    expect(missing.status).toBe(503);
    expect(await missing.json()).toMatchObject({ error: { code: 'manifest_missing' } });
    const bytes = await manifestBytes(['a']);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    bucket.put('m', bytes);
    const corrupt = await app.request('/v1/adapters');
    expect(corrupt.status).toBe(503);
    expect(await corrupt.json()).toMatchObject({ error: { code: 'manifest_invalid', message: expect.stringMatching(/checksum mismatch/) } });
    const unknown = await app.request('/v2/route', { method: 'POST' });
    expect(unknown.status).toBe(404);
  });
});
