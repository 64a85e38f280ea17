import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { decodeManifest, type Manifest } from '../../shared/manifest/manifest-codec.js';
import { MANIFEST_FILE } from '../../shared/manifest/schema.js';

/** A manifest file, or a folder holding `manifest.safetensors`. */
export async function readManifestFile(pathArg: string): Promise<{ path: string; manifest: Manifest }> {
  const st = await stat(pathArg).catch(() => null);
  if (!st) throw new QuiverInputError('no such file or folder', pathArg);
  const path = st.isDirectory() ? join(pathArg, MANIFEST_FILE) : pathArg;
  const bytes = await readFile(path).catch(() => {
    throw new QuiverInputError(`no ${MANIFEST_FILE} in this folder`, pathArg);
  });
  return { path, manifest: await decodeManifest(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path) };
}
