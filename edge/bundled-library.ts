/**
 * The compiled default library (`quiver compile library --out library/compiled`), bundled into the
 * worker so it routes with no upload: the binaries as Data modules (wrangler.toml [[rules]]), the
 * JSON files as JSON modules.
 */
import embedder from '../library/compiled/embedder.onnx';
import manifest from '../library/compiled/manifest.safetensors';
import tokenizerConfig from '../library/compiled/tokenizer_config.json' with { type: 'json' };
import tokenizerJson from '../library/compiled/tokenizer.json' with { type: 'json' };
import type { CompiledFiles } from '../shared/router/compiled-library.js';

export const BUNDLED_WHERE = 'bundle:library/compiled';

export const bundledFiles: CompiledFiles = {
  manifest: new Uint8Array(manifest),
  embedder: new Uint8Array(embedder),
  tokenizerJson,
  tokenizerConfig,
};
