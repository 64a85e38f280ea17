/**
 * Which library the worker routes with. The compiled default library is bundled, so the worker
 * routes with no upload; a manifest in R2 (key MANIFEST_KEY) replaces it only if it passes every
 * check of openCompiledLibrary — format, version, checksum, shapes — and names the sha256 of the
 * bundled embedder. A refused manifest never interrupts service: the last good library keeps
 * routing, and the refusal is reported (healthz) until a good manifest replaces it or it is removed.
 */
import { decodeManifest } from '../shared/manifest/manifest-codec.js';
import type { CompiledLibrary } from '../shared/router/compiled-library.js';

/** The part of an R2 bucket binding the store uses (R2Bucket satisfies it). */
export interface ManifestBucket {
  head(key: string): Promise<{ etag: string } | null>;
  get(key: string): Promise<{ etag: string; arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

export type LibrarySource = 'bundled' | 'r2';

export interface ServingLibrary {
  library: CompiledLibrary;
  source: LibrarySource;
}

export interface Refusal {
  reason: string;
  key: string;
  etag: string | null;
  since: string;
}

export class LibraryStore {
  private bundled: CompiledLibrary | null = null;
  private serving: ServingLibrary | null = null;
  /** The R2 object last looked at (served or refused), so an unchanged object is never re-read. */
  private seenEtag: string | null = null;
  private refusal: Refusal | null = null;
  private checkedAt = -Infinity;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly openBundled: () => Promise<CompiledLibrary>,
    private readonly bucket: ManifestBucket | null,
    private readonly key: string,
    private readonly recheckMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The library to route with; asks R2 at most once per recheck interval. */
  async get(): Promise<ServingLibrary> {
    if (!this.serving) await this.once(() => this.loadBundled());
    if (this.bucket && this.now() - this.checkedAt >= this.recheckMs) await this.once(() => this.check());
    return this.serving!;
  }

  /** The refusal of the last R2 manifest looked at, or null. */
  currentRefusal(): Refusal | null {
    return this.refusal;
  }

  /** Concurrent requests share one load or check instead of each starting their own. */
  private async once(task: () => Promise<void>): Promise<void> {
    this.inFlight ??= task().finally(() => (this.inFlight = null));
    await this.inFlight;
  }

  private async loadBundled(): Promise<void> {
    if (this.serving) return;
    this.bundled = await this.openBundled();
    this.serving = { library: this.bundled, source: 'bundled' };
  }

  private async check(): Promise<void> {
    this.checkedAt = this.now();
    let head: { etag: string } | null;
    try {
      head = await this.bucket!.head(this.key);
    } catch (err) {
      // R2 itself failing says nothing about the manifest: keep serving, say why, retry next time.
      this.refuse(`could not read the MANIFESTS bucket: ${(err as Error).message}`, null);
      this.seenEtag = null;
      return;
    }
    if (!head) {
      this.serving = { library: this.bundled!, source: 'bundled' };
      this.seenEtag = null;
      this.refusal = null;
      return;
    }
    if (head.etag === this.seenEtag) return;
    try {
      const obj = await this.bucket!.get(this.key);
      if (!obj) return; // deleted between head and get: the next check sees it gone
      const where = `r2://${this.key}`;
      const manifest = await decodeManifest(new Uint8Array(await obj.arrayBuffer()), where);
      this.serving = { library: this.bundled!.withManifest(manifest, where), source: 'r2' };
      this.seenEtag = obj.etag;
      this.refusal = null;
    } catch (err) {
      this.refuse((err as Error).message, head.etag);
      this.seenEtag = head.etag;
    }
  }

  private refuse(reason: string, etag: string | null): void {
    if (this.refusal?.reason === reason && this.refusal.etag === etag) return;
    this.refusal = { reason, key: this.key, etag, since: new Date(this.now()).toISOString() };
  }
}
