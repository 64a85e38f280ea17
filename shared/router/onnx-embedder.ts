/**
 * An Embedder over an ONNX Runtime session of the Quiver embedder (embedder-outputs.ts), written
 * against the few members that onnxruntime-node and onnxruntime-web share (both re-export
 * onnxruntime-common), so that Node and the edge run the same code around their own runtime: the
 * caller passes the session and tensor constructors. The manifest's prototypes (and centres)
 * become input tensors once; each request feeds them with the prompt's ids.
 */
import { QuiverInputError } from '../errors.js';
import type { Manifest } from '../manifest/manifest-codec.js';
import type { Embedder } from './embedder.js';
import { arrowLogitsName, centreInputName, EMBEDDER_INPUT, prototypesInputName } from './embedder-outputs.js';

export interface OnnxTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

/** The part of `InferenceSession` the embedder uses. */
export interface OnnxSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OnnxTensorLike>, fetches: string[]): Promise<Record<string, OnnxTensorLike>>;
}

/** `new ort.Tensor(type, data, dims)` of the runtime at hand, for the two types the embedder feeds. */
export interface OnnxTensorFactory {
  int64(data: BigInt64Array, dims: number[]): OnnxTensorLike;
  float32(data: Float32Array, dims: number[]): OnnxTensorLike;
}

export class OnnxEmbedder implements Embedder {
  private readonly prototypeFeeds: Record<string, OnnxTensorLike> = {};
  private readonly fetches: string[];
  private readonly adapters: number;

  /**
   * Checks that the session takes `input_ids` and every routed module's prototypes and returns
   * its logits; `where` names the model file in errors.
   */
  constructor(
    private readonly session: OnnxSessionLike,
    private readonly tensors: OnnxTensorFactory,
    private readonly manifest: Pick<Manifest, 'metadata' | 'prototypes' | 'centres'>,
    private readonly where = 'embedder.onnx',
  ) {
    const { modules } = manifest.metadata;
    this.adapters = manifest.metadata.adapters.length;
    const centred = modules.filter((m) => manifest.centres.has(m.key));
    const inputs = [EMBEDDER_INPUT, ...modules.map((m) => prototypesInputName(m.key)), ...centred.map((m) => centreInputName(m.key))];
    const missing = [...inputs.filter((n) => !session.inputNames.includes(n)), ...modules.map((m) => arrowLogitsName(m.key)).filter((n) => !session.outputNames.includes(n))];
    if (missing.length > 0) {
      throw new QuiverInputError(`the embedder lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}: compile it for this manifest's modules`, where);
    }
    const extra = session.inputNames.filter((n) => !inputs.includes(n));
    if (extra.length > 0) throw new QuiverInputError(`the embedder takes inputs the manifest cannot feed: ${extra.slice(0, 3).join(', ')}`, where);
    for (const m of modules) this.prototypeFeeds[prototypesInputName(m.key)] = tensors.float32(manifest.prototypes.get(m.key)!, [this.adapters, m.dIn]);
    for (const m of centred) this.prototypeFeeds[centreInputName(m.key)] = tensors.float32(manifest.centres.get(m.key)!, [m.dIn]);
    this.fetches = modules.map((m) => arrowLogitsName(m.key));
  }

  async run(ids: readonly number[]): Promise<Map<string, Float32Array>> {
    const T = ids.length;
    if (T === 0) throw new RangeError('the embedder needs at least one token');
    const feeds = { ...this.prototypeFeeds, [EMBEDDER_INPUT]: this.tensors.int64(BigInt64Array.from(ids, (id) => BigInt(id)), [1, T]) };
    const outputs = await this.session.run(feeds, this.fetches);
    const byKey = new Map<string, Float32Array>();
    for (const m of this.manifest.metadata.modules) {
      const name = arrowLogitsName(m.key);
      const t = outputs[name];
      if (!t || !(t.data instanceof Float32Array)) throw new QuiverInputError(`output "${name}" is missing or not float32`, this.where);
      if (t.dims.join() !== [1, T, this.adapters].join()) {
        throw new QuiverInputError(`output "${name}" has shape [${t.dims.join(', ')}], expected [1, ${T}, ${this.adapters}]`, this.where);
      }
      byKey.set(m.key, t.data);
    }
    return byKey;
  }
}
