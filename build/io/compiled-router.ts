/**
 * A compiled folder (shared/router/compiled-folder.ts) opened for routing in Node: manifest,
 * tokenizer, and the ONNX embedder in onnxruntime-node, checked to belong together.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { checkEmbedderHash, requireEmbedder } from '../../shared/router/compiled-folder.js';
import type { RouterParts } from '../../shared/router/route-request.js';
import { loadRouterTokenizer, ROUTER_TOKENIZER_CONFIG_FILE, ROUTER_TOKENIZER_FILE } from '../../shared/router/router-tokenizer.js';
import { createNodeEmbedder } from '../onnx/ort-node-embedder.js';
import { readManifestFile } from './read-manifest.js';

export interface OpenRouter extends RouterParts {
  manifestPath: string;
  release(): Promise<void>;
}

async function readJson(path: string, optional: boolean): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) {
    if (optional) return null;
    throw new QuiverInputError('missing: a compiled folder holds manifest.safetensors, embedder.onnx, tokenizer.json and tokenizer_config.json', path);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new QuiverInputError(`not valid JSON (${(err as Error).message})`, path);
  }
}

export async function openCompiledRouter(dirArg: string): Promise<OpenRouter> {
  const st = await stat(dirArg).catch(() => null);
  if (!st?.isDirectory()) throw new QuiverInputError('not a folder: pass the folder quiver compile wrote', dirArg);
  const { path: manifestPath, manifest } = await readManifestFile(dirArg);
  const ref = requireEmbedder(manifest, manifestPath);
  const onnxPath = join(dirArg, ref.path);
  const onnx = await readFile(onnxPath).catch(() => {
    throw new QuiverInputError(`missing ${ref.path}, which the manifest names as its embedder`, dirArg);
  });
  checkEmbedderHash(ref, createHash('sha256').update(onnx).digest('hex'), onnxPath);
  const tokenizer = loadRouterTokenizer(await readJson(join(dirArg, ROUTER_TOKENIZER_FILE), false), await readJson(join(dirArg, ROUTER_TOKENIZER_CONFIG_FILE), true), join(dirArg, ROUTER_TOKENIZER_FILE));
  const { embedder, release } = await createNodeEmbedder(new Uint8Array(onnx.buffer, onnx.byteOffset, onnx.byteLength), manifest, onnxPath);
  return { manifest, tokenizer, embedder, manifestPath, release };
}
