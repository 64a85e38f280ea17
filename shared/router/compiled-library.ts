/**
 * A compiled folder (compiled-folder.ts) opened for routing from its bytes, with every check that
 * the four files belong together: the manifest decodes (format, version, checksum, shapes), it
 * names an embedder, the ONNX bytes have the sha256 it records, the session has the inputs and
 * outputs the manifest's modules need, and the tokenizer loads. Node (`quiver route`, through
 * build/io/compiled-router.ts) and the edge worker open their libraries here, so both refuse the
 * same things and route with the same parts.
 */
import { decodeManifest, type Manifest } from '../manifest/manifest-codec.js';
import { sha256Hex } from '../sha256.js';
import { checkEmbedderHash, EMBEDDER_FILE, requireEmbedder } from './compiled-folder.js';
import { OnnxEmbedder, type OnnxSessionLike, type OnnxTensorFactory } from './onnx-embedder.js';
import type { RouterParts } from './route-request.js';
import { loadRouterTokenizer, ROUTER_TOKENIZER_FILE, routerWindow } from './router-tokenizer.js';

/** The compiled folder's files: the two binaries as bytes, the two JSON files parsed. */
export interface CompiledFiles {
  manifest: Uint8Array;
  embedder: Uint8Array;
  tokenizerJson: unknown;
  /** null when the folder has no tokenizer_config.json. */
  tokenizerConfig: unknown;
}

/** An ONNX Runtime (onnxruntime-node or -web) reduced to what the router needs. */
export interface OnnxRuntime {
  createSession(model: Uint8Array): Promise<OnnxSessionLike & { release(): Promise<void> }>;
  tensors: OnnxTensorFactory;
}

export interface CompiledLibrary extends RouterParts {
  /** sha256 hex of the embedder's ONNX bytes: a manifest from elsewhere must name this one. */
  embedderSha256: string;
  /** The same library routed with another manifest compiled for this embedder (checked). */
  withManifest(manifest: Manifest, where: string): CompiledLibrary;
  release(): Promise<void>;
}

/** `where` names the folder (or bundle) in errors. */
export async function openCompiledLibrary(files: CompiledFiles, runtime: OnnxRuntime, where: string): Promise<CompiledLibrary> {
  const manifest = await decodeManifest(files.manifest, `${where}/manifest.safetensors`);
  const ref = requireEmbedder(manifest, `${where}/manifest.safetensors`);
  const embedderSha256 = await sha256Hex([files.embedder]);
  checkEmbedderHash(ref, embedderSha256, `${where}/${ref.path}`);
  const tokenizer = loadRouterTokenizer(files.tokenizerJson, files.tokenizerConfig, `${where}/${ROUTER_TOKENIZER_FILE}`);
  const window = routerWindow(files.tokenizerConfig, `${where}/tokenizer_config.json`);
  const session = await runtime.createSession(files.embedder);
  const open = (m: Manifest, mWhere: string): CompiledLibrary => {
    checkEmbedderHash(requireEmbedder(m, mWhere), embedderSha256, mWhere);
    return {
      manifest: m,
      tokenizer,
      window,
      embedder: new OnnxEmbedder(session, runtime.tensors, m, `${where}/${EMBEDDER_FILE}`),
      embedderSha256,
      withManifest: open,
      release: () => session.release(),
    };
  };
  try {
    return open(manifest, `${where}/manifest.safetensors`);
  } catch (err) {
    await session.release();
    throw err;
  }
}
