/**
 * A compiled folder (shared/router/compiled-folder.ts) opened for routing in Node: its files read
 * from disk, then shared/router/compiled-library.ts checks that they belong together and opens
 * the embedder in onnxruntime-node — the same opening the edge worker does with onnxruntime-web.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { QuiverInputError } from '../../shared/errors.js';
import { openCompiledLibrary, type CompiledLibrary } from '../../shared/router/compiled-library.js';
import { EMBEDDER_FILE, requireEmbedder } from '../../shared/router/compiled-folder.js';
import { decodeManifest } from '../../shared/manifest/manifest-codec.js';
import { ortRuntime, type OrtModuleLike } from '../../shared/router/ort-runtime.js';
import { ROUTER_TOKENIZER_CONFIG_FILE, ROUTER_TOKENIZER_FILE } from '../../shared/router/router-tokenizer.js';
import { MANIFEST_FILE } from '../../shared/manifest/schema.js';
import type { CompiledFiles } from '../../shared/router/compiled-library.js';
import { readJsonFile } from './read-json-file.js';

export interface OpenRouter extends CompiledLibrary {
  manifestPath: string;
}

const MISSING = 'missing: a compiled folder holds manifest.safetensors, embedder.onnx, tokenizer.json and tokenizer_config.json';

async function readBytes(path: string): Promise<Uint8Array> {
  const b = await readFile(path).catch(() => {
    throw new QuiverInputError(MISSING, path);
  });
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}


/** The four files of a compiled folder, as shared/router/compiled-library.ts takes them. */
export async function readCompiledFiles(dir: string): Promise<CompiledFiles> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new QuiverInputError('not a folder: pass the folder quiver compile wrote', dir);
  const manifest = await readBytes(join(dir, MANIFEST_FILE));
  const embedder = await readBytes(join(dir, EMBEDDER_FILE)).catch(async (err: unknown) => {
    // An import-only manifest has no embedder: say that, not merely that a file is missing.
    requireEmbedder(await decodeManifest(manifest, join(dir, MANIFEST_FILE)), join(dir, MANIFEST_FILE));
    throw err;
  });
  return {
    manifest,
    embedder,
    // Their schemas are shared/router's (it checks them from bytes, as the edge does).
    tokenizerJson: await readJsonFile(join(dir, ROUTER_TOKENIZER_FILE), z.unknown(), { missing: MISSING }),
    tokenizerConfig: await readJsonFile(join(dir, ROUTER_TOKENIZER_CONFIG_FILE), z.unknown(), { missing: null }),
  };
}

export async function openCompiledRouter(dir: string): Promise<OpenRouter> {
  const files = await readCompiledFiles(dir);
  const ort = (await import('onnxruntime-node')) as unknown as OrtModuleLike;
  const library = await openCompiledLibrary(files, ortRuntime(ort), dir);
  return { ...library, manifestPath: join(dir, MANIFEST_FILE) };
}
