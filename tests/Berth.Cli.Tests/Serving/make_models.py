"""Small ONNX models for the serve-model tests, made with Debian's python3-onnx (no network, no training).

Usage: make_models.py <folder>. Writes, each in a folder of its own (one version each):
  linear/model.onnx, linear2/model.onnx  y = x @ W + b, FP32, x [-1, 3] -> y [-1, 2] (two sets of weights)
  classifier/model.onnx                  features FP32 [-1, 4] -> label INT64 [-1], probabilities FP32 [-1, 3]
  text/model.onnx                        text BYTES [-1] -> label INT64 [-1] (LabelEncoder: a category's code), echo BYTES [-1]
  types/model.onnx                       one Identity per datatype: in_<T> -> out_<T>, shape [-1, 2]
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

root = sys.argv[1]


def save(name, graph, opsets=None):
    opsets = opsets or {"": 17}
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()], producer_name="berth-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(root, name), exist_ok=True)
    onnx.save(model, os.path.join(root, name, "model.onnx"))


def linear(name, weights, bias):
    w = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], weights)
    b = helper.make_tensor("b", TensorProto.FLOAT, [2], bias)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        initializer=[w, b])
    save(name, graph)


linear("linear", [0.5, -1.25, 2.0, 0.75, -0.3, 1.1], [0.1, -0.2])
linear("linear2", [3.0, 1.0, -2.0, 0.5, 0.25, -4.0], [1.5, 2.5])

w = helper.make_tensor("W", TensorProto.FLOAT, [4, 3], [0.2, -0.5, 1.0, 1.3, 0.1, -0.7, -0.4, 0.9, 0.3, 0.6, -1.2, 0.05])
b = helper.make_tensor("b", TensorProto.FLOAT, [3], [0.01, 0.2, -0.1])
save("classifier", helper.make_graph(
    [helper.make_node("MatMul", ["features", "W"], ["fw"]),
     helper.make_node("Add", ["fw", "b"], ["logits"]),
     helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
     helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0)],
    "classifier",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
     helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
    initializer=[w, b]))

save("text", helper.make_graph(
    [helper.make_node("LabelEncoder", ["text"], ["label"], domain="ai.onnx.ml",
                      keys_strings=["spam", "ham", "berth"], values_int64s=[1, 0, 7], default_int64=-1),
     helper.make_node("Identity", ["text"], ["echo"])],
    "text",
    [helper.make_tensor_value_info("text", TensorProto.STRING, ["n"])],
    [helper.make_tensor_value_info("label", TensorProto.INT64, ["n"]),
     helper.make_tensor_value_info("echo", TensorProto.STRING, ["n"])]),
    opsets={"": 17, "ai.onnx.ml": 2})

types = {
    "BOOL": TensorProto.BOOL, "UINT8": TensorProto.UINT8, "UINT16": TensorProto.UINT16, "UINT32": TensorProto.UINT32,
    "UINT64": TensorProto.UINT64, "INT8": TensorProto.INT8, "INT16": TensorProto.INT16, "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64, "FP16": TensorProto.FLOAT16, "FP32": TensorProto.FLOAT, "FP64": TensorProto.DOUBLE,
    "BYTES": TensorProto.STRING,
}
save("types", helper.make_graph(
    [helper.make_node("Identity", ["in_" + t], ["out_" + t]) for t in types],
    "types",
    [helper.make_tensor_value_info("in_" + t, p, ["batch", 2]) for t, p in types.items()],
    [helper.make_tensor_value_info("out_" + t, p, ["batch", 2]) for t, p in types.items()]))
