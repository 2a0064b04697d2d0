//! A small builder for ONNX graphs: named values, initialisers, nodes with attributes,
//! serialised through [`super::proto`].

use super::proto::{Writer, field as f};

pub type Value = String;

#[derive(Clone)]
pub enum Dim {
    Fixed(i64),
    Named(&'static str),
}

pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Str(&'static str),
}

struct Node {
    op: &'static str,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
    attrs: Vec<(&'static str, Attr)>,
}

enum InitData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

struct Init {
    name: Value,
    dims: Vec<i64>,
    data: InitData,
}

struct Io {
    name: Value,
    dims: Vec<Dim>,
}

#[derive(Default)]
pub struct Graph {
    nodes: Vec<Node>,
    inits: Vec<Init>,
    inputs: Vec<Io>,
    outputs: Vec<Io>,
    next: usize,
}

impl Graph {
    fn fresh(&mut self, hint: &str) -> Value {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    pub fn input(&mut self, name: &str, dims: &[Dim]) -> Value {
        self.inputs.push(Io { name: name.into(), dims: dims.to_vec() });
        name.into()
    }

    pub fn output(&mut self, value: &str, name: &str, dims: &[Dim]) {
        self.nodes.push(Node { op: "Identity", inputs: vec![value.into()], outputs: vec![name.into()], attrs: vec![] });
        self.outputs.push(Io { name: name.into(), dims: dims.to_vec() });
    }

    pub fn f32s(&mut self, data: Vec<f32>, dims: &[i64]) -> Value {
        assert_eq!(data.len() as i64, dims.iter().product::<i64>(), "initialiser size");
        let name = self.fresh("c");
        self.inits.push(Init { name: name.clone(), dims: dims.to_vec(), data: InitData::F32(data) });
        name
    }

    pub fn scalar(&mut self, v: f32) -> Value {
        self.f32s(vec![v], &[])
    }

    pub fn i64s(&mut self, data: Vec<i64>) -> Value {
        let name = self.fresh("i");
        let dims = vec![data.len() as i64];
        self.inits.push(Init { name: name.clone(), dims, data: InitData::I64(data) });
        name
    }

    pub fn op(&mut self, op: &'static str, inputs: &[&str], attrs: Vec<(&'static str, Attr)>) -> Value {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.nodes.push(Node { op, inputs: inputs.iter().map(|s| (*s).to_owned()).collect(), outputs: vec![out.clone()], attrs });
        out
    }

    // Elementwise helpers.
    pub fn add(&mut self, a: &str, b: &str) -> Value {
        self.op("Add", &[a, b], vec![])
    }
    pub fn sub(&mut self, a: &str, b: &str) -> Value {
        self.op("Sub", &[a, b], vec![])
    }
    pub fn mul(&mut self, a: &str, b: &str) -> Value {
        self.op("Mul", &[a, b], vec![])
    }
    pub fn div(&mut self, a: &str, b: &str) -> Value {
        self.op("Div", &[a, b], vec![])
    }
    pub fn unary(&mut self, op: &'static str, a: &str) -> Value {
        self.op(op, &[a], vec![])
    }
    pub fn mul_s(&mut self, a: &str, s: f32) -> Value {
        let c = self.scalar(s);
        self.mul(a, &c)
    }
    pub fn add_s(&mut self, a: &str, s: f32) -> Value {
        let c = self.scalar(s);
        self.add(a, &c)
    }
    pub fn sigmoid(&mut self, a: &str) -> Value {
        self.unary("Sigmoid", a)
    }
    pub fn square(&mut self, a: &str) -> Value {
        self.mul(a, a)
    }
    /// 1.0 where |a - v| < 0.5, else 0.0.
    pub fn equals_s(&mut self, a: &str, v: f32) -> Value {
        let d = self.add_s(a, -v);
        let d = self.unary("Abs", &d);
        let half = self.scalar(0.5);
        let lt = self.op("Less", &[&d, &half], vec![]);
        self.op("Cast", &[&lt], vec![("to", Attr::Int(f::DTYPE_FLOAT))])
    }
    pub fn unsqueeze(&mut self, a: &str, axes: &[i64]) -> Value {
        let ax = self.i64s(axes.to_vec());
        self.op("Unsqueeze", &[a, &ax], vec![])
    }
    pub fn reshape(&mut self, a: &str, shape: &[i64]) -> Value {
        let s = self.i64s(shape.to_vec());
        self.op("Reshape", &[a, &s], vec![])
    }
    pub fn reduce_sum(&mut self, a: &str, axes: &[i64], keepdims: bool) -> Value {
        let ax = self.i64s(axes.to_vec());
        self.op("ReduceSum", &[a, &ax], vec![("keepdims", Attr::Int(keepdims as i64))])
    }
    pub fn reduce_max(&mut self, a: &str, axes: &[i64], keepdims: bool) -> Value {
        self.op("ReduceMax", &[a], vec![("axes", Attr::Ints(axes.to_vec())), ("keepdims", Attr::Int(keepdims as i64))])
    }
    pub fn gather(&mut self, a: &str, index: i64, axis: i64) -> Value {
        let name = self.fresh("idx");
        self.inits.push(Init { name: name.clone(), dims: vec![], data: InitData::I64(vec![index]) });
        self.op("Gather", &[a, &name], vec![("axis", Attr::Int(axis))])
    }

    /// Serialises an ONNX ModelProto (IR 8, default domain at `opset`).
    pub fn to_model(&self, name: &str, opset: i64, doc: &str) -> Vec<u8> {
        let mut w = Writer::default();
        w.int(f::MODEL_IR_VERSION, 8);
        w.string(f::MODEL_PRODUCER_NAME, "gen3d-models");
        w.string(f::MODEL_PRODUCER_VERSION, "1");
        w.string(f::MODEL_DOC_STRING, doc);
        w.message(f::MODEL_GRAPH, |g| {
            for n in &self.nodes {
                g.message(f::GRAPH_NODE, |nw| {
                    for i in &n.inputs {
                        nw.string(f::NODE_INPUT, i);
                    }
                    for o in &n.outputs {
                        nw.string(f::NODE_OUTPUT, o);
                    }
                    nw.string(f::NODE_NAME, &format!("{}_node", n.outputs[0]));
                    nw.string(f::NODE_OP_TYPE, n.op);
                    for (attr_name, attr) in &n.attrs {
                        nw.message(f::NODE_ATTRIBUTE, |a| {
                            a.string(f::ATTR_NAME, attr_name);
                            match attr {
                                Attr::Int(v) => {
                                    a.int(f::ATTR_I, *v);
                                    a.int(f::ATTR_TYPE, f::ATTR_TYPE_INT);
                                }
                                Attr::Ints(vs) => {
                                    a.packed_ints(f::ATTR_INTS, vs);
                                    a.int(f::ATTR_TYPE, f::ATTR_TYPE_INTS);
                                }
                                Attr::Str(s) => {
                                    a.string(f::ATTR_S, s);
                                    a.int(f::ATTR_TYPE, f::ATTR_TYPE_STRING);
                                }
                            }
                        });
                    }
                });
            }
            g.string(f::GRAPH_NAME, name);
            for init in &self.inits {
                g.message(f::GRAPH_INITIALIZER, |t| {
                    t.packed_ints(f::TENSOR_DIMS, &init.dims);
                    let (dtype, raw): (i64, Vec<u8>) = match &init.data {
                        InitData::F32(v) => (f::DTYPE_FLOAT, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                        InitData::I64(v) => (f::DTYPE_INT64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                    };
                    t.int(f::TENSOR_DATA_TYPE, dtype);
                    t.string(f::TENSOR_NAME, &init.name);
                    t.bytes(f::TENSOR_RAW_DATA, &raw);
                });
            }
            for (field, ios) in [(f::GRAPH_INPUT, &self.inputs), (f::GRAPH_OUTPUT, &self.outputs)] {
                for io in ios {
                    g.message(field, |v| {
                        v.string(f::VALUE_INFO_NAME, &io.name);
                        v.message(f::VALUE_INFO_TYPE, |t| {
                            t.message(f::TYPE_TENSOR, |tt| {
                                tt.int(f::TYPE_TENSOR_ELEM_TYPE, f::DTYPE_FLOAT);
                                tt.message(f::TYPE_TENSOR_SHAPE, |s| {
                                    for d in &io.dims {
                                        s.message(f::SHAPE_DIM, |dw| match d {
                                            Dim::Fixed(n) => dw.int(f::DIM_VALUE, *n),
                                            Dim::Named(p) => dw.string(f::DIM_PARAM, p),
                                        });
                                    }
                                });
                            });
                        });
                    });
                }
            }
        });
        w.message(f::MODEL_OPSET_IMPORT, |o| {
            o.string(f::OPSET_DOMAIN, "");
            o.int(f::OPSET_VERSION, opset);
        });
        w.into_bytes()
    }
}
