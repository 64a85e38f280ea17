/**
 * A small builder for ONNX graphs over onnx-proto (protobufjs static code for onnx.proto, whose
 * schema stops at IR version 8: docs/environment.md, "ONNX and onnxruntime"). Default domain only; initializers as raw
 * little-endian bytes.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const TensorType = onnx.TensorProto.DataType;

/** Highest versions this project writes: what onnx-proto can express and onnxruntime-web reads. */
export const MAX_IR_VERSION = 8;
export const MAX_OPSET = 18;

export type Attribute = { name: string; int: number } | { name: string; ints: number[] } | { name: string; float: number };

/** A dimension: a fixed size, or a name for a size that varies (`batch`, `seq`). */
export type Dim = number | string;

function attributeProto(a: Attribute): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name: a.name, type: T.INT, i: a.int };
  if ('ints' in a) return { name: a.name, type: T.INTS, ints: a.ints };
  return { name: a.name, type: T.FLOAT, f: a.float };
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function bytesOf(a: Float32Array | Uint16Array | BigInt64Array | Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export interface ModelInfo {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** `metadata_props`: string key → string value. */
  metadata?: Record<string, string>;
}

export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  /** A fresh tensor name under `prefix` (for readable graphs in Netron). */
  fresh(prefix: string): string {
    return this.claim(`${prefix}/${this.counter++}`);
  }

  /** Adds one node; returns its outputs (fresh names under `prefix` unless `outputNames` are given). */
  nodeN(opType: string, inputs: readonly string[], count: number, attributes: readonly Attribute[] = [], prefix = opType, outputNames?: readonly string[]): string[] {
    const output = outputNames ? outputNames.map((n) => this.claim(n)) : Array.from({ length: count }, () => this.fresh(`${prefix}/${opType}`));
    this.nodes.push({ opType, input: [...inputs], output, name: `${output[0]}#node`, attribute: attributes.map(attributeProto) });
    return output;
  }

  /** Adds a one-output node; `as` names its output (a graph output, say). */
  node(opType: string, inputs: readonly string[], attributes: readonly Attribute[] = [], prefix = opType, as?: string): string {
    return this.nodeN(opType, inputs, 1, attributes, prefix, as === undefined ? undefined : [as])[0]!;
  }

  initializer(name: string, dataType: number, dims: readonly number[], data: Float32Array | Uint16Array | BigInt64Array | Int8Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`ONNX initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dataType, dims: [...dims], rawData: bytesOf(data) });
    return name;
  }

  f32(name: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    return this.initializer(name, TensorType.FLOAT, dims, data instanceof Float32Array ? data : Float32Array.from(data));
  }

  /** F16 values given as their bit patterns. */
  f16Bits(name: string, dims: readonly number[], bits: Uint16Array): string {
    return this.initializer(name, TensorType.FLOAT16, dims, bits);
  }

  i8(name: string, dims: readonly number[], data: Int8Array): string {
    return this.initializer(name, TensorType.INT8, dims, data);
  }

  i64(name: string, dims: readonly number[], data: readonly number[]): string {
    return this.initializer(name, TensorType.INT64, dims, BigInt64Array.from(data, (x) => BigInt(x)));
  }

  /** An int64 constant (a shape, axes, a split), one initializer per distinct value; `[]` dims for a scalar. */
  constI64(values: readonly number[], scalar = false): string {
    const name = `const.i64${scalar ? '.scalar' : ''}[${values.join(',')}]`;
    return this.names.has(name) ? name : this.i64(name, scalar ? [] : [values.length], values);
  }

  /** A float32 scalar constant, one initializer per distinct value. */
  constF32(value: number): string {
    const name = `const.f32(${value})`;
    return this.names.has(name) ? name : this.f32(name, [], [value]);
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declares an existing tensor a graph output. */
  output(name: string, elemType: number, dims: readonly Dim[]): void {
    if (!this.names.has(name)) throw new Error(`ONNX graph: output "${name}" is not produced by any node`);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  encode(info: ModelInfo): Uint8Array {
    if (info.irVersion > MAX_IR_VERSION || info.opset > MAX_OPSET) throw new Error(`IR ${info.irVersion} / opset ${info.opset} exceed IR ${MAX_IR_VERSION} / opset ${MAX_OPSET}`);
    const model = onnx.ModelProto.create({
      irVersion: info.irVersion,
      opsetImport: [{ domain: '', version: info.opset }],
      producerName: info.producerName,
      producerVersion: info.producerVersion,
      docString: info.docString ?? '',
      metadataProps: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
