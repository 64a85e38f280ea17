/**
 * Where the worker gets its routing manifest: an R2 object (or KV value) named by
 * MANIFEST_KEY. Decoded once per isolate and kept while the stored object's version is the same,
 * so a new build goes live by uploading a new manifest — no redeploy (the route table hot-reloads).
 */
import { decodeManifest, type Manifest } from '../shared/manifest/manifest-codec.js';

/** The part of an R2 bucket binding the store uses (R2Bucket satisfies it). */
export interface ManifestBucket {
  head(key: string): Promise<{ etag: string } | null>;
  get(key: string): Promise<{ etag: string; arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

export class ManifestNotFoundError extends Error {
  override readonly name = 'ManifestNotFoundError';
}

export class ManifestStore {
  private cached: { etag: string; manifest: Manifest } | null = null;
  private checkedAt = -Infinity;

  constructor(
    private readonly bucket: ManifestBucket,
    private readonly key: string,
    /** How often to ask the bucket whether the manifest changed. */
    private readonly recheckMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<Manifest> {
    const t = this.now();
    if (this.cached && t - this.checkedAt < this.recheckMs) return this.cached.manifest;
    const head = await this.bucket.head(this.key);
    if (!head) throw new ManifestNotFoundError(`no manifest at "${this.key}" in the MANIFESTS bucket; upload the build's manifest.safetensors there`);
    this.checkedAt = t;
    if (this.cached?.etag === head.etag) return this.cached.manifest;
    const obj = await this.bucket.get(this.key);
    if (!obj) throw new ManifestNotFoundError(`manifest "${this.key}" disappeared while loading`);
    const manifest = await decodeManifest(new Uint8Array(await obj.arrayBuffer()), `r2://${this.key}`);
    this.cached = { etag: obj.etag, manifest };
    return manifest;
  }
}
