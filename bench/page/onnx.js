// A one-node ONNX model (MatMul, Conv or ConvTranspose, weights as initializers) written as
// protobuf bytes by hand, so onnxruntime-web can run exactly the benchmark's shapes without a
// model file. Only what these three models need of onnx.proto is here (field numbers from
// onnx.proto3: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).

const enc = new TextEncoder();

/** A protobuf message under construction: fields appended in any order. */
class Msg {
  constructor() { this.parts = []; }
  #varint(n) {
    const out = [];
    let v = BigInt(n);
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    this.parts.push(Uint8Array.from(out));
  }
  int(field, n) { this.#varint(field << 3); this.#varint(n); return this; }
  bytes(field, b) { this.#varint((field << 3) | 2); this.#varint(b.length); this.parts.push(b); return this; }
  str(field, s) { return this.bytes(field, enc.encode(s)); }
  msg(field, m) { return this.bytes(field, m.build()); }
  build() {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT = 2; const INTS = 7; // AttributeProto.AttributeType

function valueInfo(name, shape) {
  const dims = new Msg();
  for (const d of shape) dims.msg(1, new Msg().int(1, d)); // TensorShapeProto.dim { dim_value }
  const tensorType = new Msg().int(1, FLOAT).msg(2, dims); // TypeProto.Tensor
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tensorType));
}

function initializer(name, shape, data) {
  const t = new Msg();
  for (const d of shape) t.int(1, d);
  t.int(2, FLOAT).str(8, name);
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // raw_data, little-endian
}

const ints = (name, v) => { const a = new Msg().str(1, name).int(20, INTS); for (const x of v) a.int(8, x); return a; };
const int = (name, v) => new Msg().str(1, name).int(20, INT).int(3, v);

/**
 * The bytes of a model computing `y = op(x, w[, b])`:
 * - `{ op: 'MatMul', x: [m, k], w: Float32Array [k, n] }`
 * - `{ op: 'Conv' | 'ConvTranspose', x: [1, c, h, w], wShape, w, b, stride, pad }` (square
 *   stride, padding on every side, group 1; the weight OIHW, ConvTranspose's `[C_in, C_out, kh, kw]`).
 * `y` is the output's shape.
 */
export function oneNodeModel({ op, x, w, wShape, b, y, stride = 1, pad = 0 }) {
  const node = new Msg().str(1, 'x').str(1, 'w');
  if (b) node.str(1, 'b');
  node.str(2, 'y').str(3, 'node').str(4, op);
  if (op !== 'MatMul') {
    node.msg(5, ints('strides', [stride, stride])).msg(5, ints('pads', [pad, pad, pad, pad]))
      .msg(5, ints('dilations', [1, 1])).msg(5, int('group', 1))
      .msg(5, ints('kernel_shape', wShape.slice(2)));
  }
  const graph = new Msg().msg(1, node).str(2, 'bench')
    .msg(5, initializer('w', wShape, w));
  if (b) graph.msg(5, initializer('b', [b.length], b));
  graph.msg(11, valueInfo('x', x)).msg(12, valueInfo('y', y));
  return new Msg().int(1, 8) // ir_version 8
    .msg(8, new Msg().str(1, '').int(2, 17)) // opset_import { domain "", version 17 }
    .str(2, 'convscope-bench')
    .msg(7, graph)
    .build();
}
