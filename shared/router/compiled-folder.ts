/**
 * What `quiver compile` writes, in one folder that the edge bundles or uploads as a unit:
 *   manifest.safetensors   prototypes + metadata; `embedder` = { path, sha256, layers }
 *   embedder.onnx          the base model's first layers, returning the routed modules' inputs
 *   tokenizer.json         the base checkpoint's tokenizer, byte for byte
 *   tokenizer_config.json  which tokens are <bos>, <eos>, <pad> (Hugging Face's form)
 */
import { QuiverInputError } from '../errors.js';
import type { Manifest } from '../manifest/manifest-codec.js';
import { MANIFEST_FILE, type EmbedderRef } from '../manifest/schema.js';
import { ROUTER_TOKENIZER_CONFIG_FILE, ROUTER_TOKENIZER_FILE } from './router-tokenizer.js';

export const EMBEDDER_FILE = 'embedder.onnx';
export const COMPILED_FILES = [MANIFEST_FILE, EMBEDDER_FILE, ROUTER_TOKENIZER_FILE, ROUTER_TOKENIZER_CONFIG_FILE] as const;

/** The manifest's embedder reference; refuses a manifest without one (import only). */
export function requireEmbedder(manifest: Manifest, where: string): EmbedderRef {
  const ref = manifest.metadata.embedder;
  if (!ref) throw new QuiverInputError('the manifest has no embedder (an import-only manifest): build one with quiver compile', where);
  return ref;
}

/** Refuses an ONNX file of another build than the manifest's (`onnxSha256`: hex of the file). */
export function checkEmbedderHash(ref: EmbedderRef, onnxSha256: string, where: string): void {
  if (ref.sha256 !== onnxSha256) throw new QuiverInputError(`${ref.path} has sha256 ${onnxSha256}, the manifest expects ${ref.sha256}: the files come from different builds`, where);
}
