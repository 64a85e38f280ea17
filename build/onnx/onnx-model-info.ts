/**
 * What an ONNX file declares, read back with onnx-proto: versions, opsets, inputs, outputs and the
 * operators used. `quiver compile` checks its own output with it, and tests use it.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface OnnxModelSummary {
  irVersion: number;
  /** domain ('' is the default ONNX domain) → version. */
  opsets: Map<string, number>;
  inputs: Array<{ name: string; elemType: number; dims: Array<number | string> }>;
  outputs: Array<{ name: string; elemType: number; dims: Array<number | string> }>;
  /** Operator types, sorted, each once. */
  ops: string[];
  initializers: string[];
  initializerBytes: number;
  metadata: Map<string, string>;
}

const num = (x: unknown): number => Number(x ?? 0);

function shapeOf(v: onnxProto.onnx.IValueInfoProto): { name: string; elemType: number; dims: Array<number | string> } {
  const t = v.type?.tensorType;
  return {
    name: v.name ?? '',
    elemType: t?.elemType ?? 0,
    dims: (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))),
  };
}

export function summarizeOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  return {
    irVersion: num(m.irVersion),
    opsets: new Map(m.opsetImport.map((o) => [o.domain ?? '', num(o.version)])),
    inputs: (g?.input ?? []).map(shapeOf),
    outputs: (g?.output ?? []).map(shapeOf),
    ops: [...new Set((g?.node ?? []).map((n) => n.opType ?? ''))].sort(),
    initializers: (g?.initializer ?? []).map((t) => t.name ?? ''),
    initializerBytes: (g?.initializer ?? []).reduce((s, t) => s + (t.rawData?.length ?? 0), 0),
    metadata: new Map(m.metadataProps.map((p) => [p.key ?? '', p.value ?? ''])),
  };
}
