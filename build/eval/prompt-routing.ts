/**
 * Request-level Arrow over a task's prompts, by the code `quiver route` and the edge run
 * (shared/router/route-request.ts, routeRequest): the router's parts are an in-memory manifest of
 * the library's private pool (libraryPrototypes, as `quiver compile` makes it; F16 prototypes) and
 * a TfjsEmbedder over the TensorFlow.js base model instead of the ONNX file. The per-layer winners
 * come along — the same routeRequest on the manifest cut down to one layer's modules — since which
 * layers' routing agrees with the task is a question the report asks.
 */
import { argmax } from '../../shared/arrow/top-k.js';
import { decodeManifest, encodeManifest, type Manifest } from '../../shared/manifest/manifest-codec.js';
import type { RoutingDefaults } from '../../shared/manifest/schema.js';
import { routeRequest, type RouterParts } from '../../shared/router/route-request.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import { libraryPrototypes } from '../arrow/library-prototypes.js';
import { scalePrototypes } from '../arrow/logit-scales.js';
import type { LibraryIndex } from '../io/library-index.js';
import type { LlamaModel } from '../model/llama.js';
import { TfjsEmbedder } from '../model/tfjs-embedder.js';

export interface PromptRouting {
  /** The adapters routeRequest chose, as indices into the manifest's adapters (= the library's tasks), best first; empty below the threshold. */
  selected: Array<{ index: number; weight: number }>;
  /** The best score was under the threshold: the base model serves the request. */
  belowThreshold: boolean;
  /** Every adapter's aggregated weight, in manifest order (routeRequest's scores). */
  scores: number[];
  /** Per layer (index = layer; -1 where no module of the layer is routed): the adapter that layer's modules alone rank first. */
  layerBest: number[];
}

/**
 * The private pool's manifest in memory, as `quiver compile` would write it (no embedder file),
 * with the centres compile stores (libraryInputCentres, build/arrow/input-centres.ts) and its
 * prototypes scaled by the logit scales (build/arrow/logit-scales.ts) when given.
 */
export async function privatePoolManifest(
  libraryDir: string,
  index: LibraryIndex,
  routing: RoutingDefaults,
  centres?: ReadonlyMap<string, Float32Array>,
  scales?: ReadonlyMap<string, Float32Array>,
): Promise<Manifest> {
  const p = await libraryPrototypes(libraryDir, index, 'private', { quiet: true });
  const prototypes = scales ? scalePrototypes(p.prototypes, scales) : p.prototypes;
  return decodeManifest(await encodeManifest({ baseModel: index.baseModel, embedder: null, modules: p.modules, adapters: p.adapters, routing, prototypes, centres }));
}

/** Routes prompts of the library's tasks through routeRequest, batched on the TensorFlow.js model. */
export class PromptRouter {
  private readonly embedder: TfjsEmbedder;
  private readonly parts: RouterParts;
  /** Per layer: the router over that layer's modules alone, or null where none is routed. */
  private readonly layerParts: Array<RouterParts | null>;
  private readonly indexOf: Map<string, number>;

  constructor(model: LlamaModel, tokenizer: Tokenizer, manifest: Manifest) {
    this.embedder = new TfjsEmbedder(model, manifest, { padId: tokenizer.padId ?? 0 });
    const window = model.config.maxPositionEmbeddings;
    this.parts = { manifest, tokenizer, embedder: this.embedder, window };
    this.layerParts = Array.from({ length: model.config.numHiddenLayers }, (_, l) => {
      const modules = manifest.metadata.modules.filter((m) => m.layer === l);
      return modules.length === 0 ? null : { ...this.parts, manifest: { ...manifest, metadata: { ...manifest.metadata, modules } } };
    });
    this.indexOf = new Map(manifest.metadata.adapters.map((a, i) => [a.id, i]));
  }

  get adapterIds(): string[] {
    return this.parts.manifest.metadata.adapters.map((a) => a.id);
  }

  /** One routing per input, in order; every prompt embedded once (the per-layer routes reuse its pass). */
  async route(inputs: readonly string[]): Promise<PromptRouting[]> {
    return Promise.all(
      inputs.map(async (input) => {
        const [all, ...layers] = await Promise.all([
          routeRequest(this.parts, input),
          ...this.layerParts.map((p) => (p === null ? null : routeRequest(p, input))),
        ]);
        return {
          selected: all!.selected.map((s) => ({ index: this.indexOf.get(s.id)!, weight: s.weight })),
          belowThreshold: all!.belowThreshold,
          scores: all!.scores.map((s) => s.score),
          layerBest: layers.map((r) => (r === null ? -1 : argmax(r.scores.map((s) => s.score)))),
        };
      }),
    );
  }

  dispose(): void {
    this.embedder.dispose();
  }
}
