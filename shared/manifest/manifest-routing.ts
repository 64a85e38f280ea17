import { encodeManifest, type Manifest } from './manifest-codec.js';
import { RoutingDefaults } from './schema.js';

/**
 * The manifest's bytes with other routing defaults and nothing else changed: the same base model,
 * embedder reference (so the embedder file stays valid), modules, adapters, F16 prototypes
 * (decoded F16 re-encodes exactly) and centres, and a new checksum. With the same routing it gives the same
 * bytes as the file the manifest was decoded from.
 */
export async function withRouting(manifest: Manifest, routing: RoutingDefaults): Promise<Uint8Array> {
  const md = manifest.metadata;
  return encodeManifest({
    baseModel: md.baseModel,
    embedder: md.embedder,
    modules: md.modules.map(({ key, layer, module, dIn }) => ({ key, layer, module, dIn })),
    adapters: md.adapters,
    routing: RoutingDefaults.parse(routing),
    prototypes: manifest.prototypes,
    centres: manifest.centres,
  });
}
