import type { ManifestBucket } from '../../edge/library-store.js';

/** An in-memory stand-in for an R2 bucket binding (the platform service, not our code). */
export class MemoryBucket implements ManifestBucket {
  private objects = new Map<string, { etag: string; bytes: Uint8Array }>();
  private version = 0;
  gets = 0;

  put(key: string, bytes: Uint8Array): void {
    this.objects.set(key, { etag: `v${++this.version}`, bytes });
  }

  async head(key: string) {
    const o = this.objects.get(key);
    return o ? { etag: o.etag } : null;
  }

  async get(key: string) {
    this.gets++;
    const o = this.objects.get(key);
    if (!o) return null;
    const copy = o.bytes.slice();
    return { etag: o.etag, arrayBuffer: async () => copy.buffer };
  }
}
