"""Writes the insight test corpus into the folder given as argv[1], with the real libraries (Debian's python3-torch,
python3-sklearn, python3-numpy, python3-onnx, python3-joblib, python3-h5py). Benign files first, then malicious
pickles built on purpose: each of those calls os.system (or posix.system) when loaded, so nothing here is ever loaded.
Prints one line per file written."""
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import h5py
import joblib
import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


def path(name):
    p = os.path.join(out, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    print(name)
    return p


# ---- benign: PyTorch ----------------------------------------------------------------------------------
net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))  # 4*8+8 + 8*2+2 = 58
torch.save(net.state_dict(), path("torch/state_dict.pt"))
torch.save(net, path("torch/full_model.pt"))
torch.save(net.state_dict(), path("torch/legacy.pt"), _use_new_zipfile_serialization=False)
half = torch.nn.Linear(16, 16).half()  # 16*16+16 = 272 float16
torch.save(half.state_dict(), path("torch/half.pth"))
bn = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
torch.save(bn.state_dict(), path("torch/conv_bn.bin"))
torch.jit.save(torch.jit.script(net), path("torch/scripted.pt"))

# ---- benign: ONNX (exported by torch, with a symbolic batch dimension) ----------------------------------
torch.onnx.export(net, torch.zeros(1, 4), path("onnx/model.onnx"), input_names=["features"], output_names=["logits"],
                  dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
import onnx
from onnx import helper, TensorProto
node = helper.make_node("Relu", ["x"], ["y"])
custom = helper.make_node("FancyOp", ["y"], ["z"], domain="com.acme")
graph = helper.make_graph([node, custom], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["n", 3])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT16, ["n", 3])],
                          [helper.make_tensor("w", TensorProto.INT64, [2, 5], list(range(10)))])
m = helper.make_model(graph, producer_name="berth-tests", opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.acme", 1)])
m.metadata_props.add(key="author", value="acme")
onnx.save(m, path("onnx/custom.onnx"))
with open(path("onnx/unnamed_model"), "wb") as f:
    f.write(m.SerializeToString())

# ---- benign: scikit-learn, joblib, pickle ---------------------------------------------------------------
X, y = make_classification(n_samples=200, n_features=5, random_state=0)
forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
joblib.dump(forest, path("sklearn/forest.joblib"))
joblib.dump(forest, path("sklearn/forest_compressed.joblib"), compress=3)
joblib.dump(forest, path("sklearn/forest.joblib.gz"), compress=("gzip", 3))
pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
with open(path("sklearn/pipeline.pkl"), "wb") as f:
    pickle.dump(pipe, f)
with open(path("sklearn/pipeline_p0.pkl"), "wb") as f:
    pickle.dump(pipe, f, protocol=0)
with open(path("sklearn/pipeline_p2.pkl"), "wb") as f:
    pickle.dump(pipe, f, protocol=2)
with open(path("sklearn/pipeline_p5.pkl"), "wb") as f:
    pickle.dump(pipe, f, protocol=5)
joblib.dump({"weights": np.arange(12, dtype=np.float64).reshape(3, 4), "labels": np.array(["a", None], dtype=object), "n": 3},
            path("sklearn/mixed.joblib"))

# ---- benign: numpy --------------------------------------------------------------------------------------
np.save(path("numpy/weights.npy"), np.ones((10, 20), dtype=np.float32))
np.savez(path("numpy/arrays.npz"), a=np.zeros((2, 3), dtype=np.int64), b=np.ones(7, dtype=np.float16))
np.savez_compressed(path("numpy/compressed.npz"), a=np.zeros((50, 50)))
np.save(path("numpy/objects.npy"), np.array([{"k": 1}, [1, 2], "text"], dtype=object), allow_pickle=True)

# ---- benign: HDF5 (a legacy Keras file's layout: model_config and keras_version attributes) -------------
with h5py.File(path("keras/legacy.h5"), "w") as f:
    f.attrs["keras_version"] = "2.11.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "in"}},
        {"class_name": "Dense", "config": {"units": 2}}]}})
    f.create_dataset("model_weights/dense/kernel", data=np.ones((4, 2), dtype=np.float32))
with h5py.File(path("data/plain.h5"), "w") as f:
    f.create_dataset("x", data=np.arange(10))


# ---- malicious ------------------------------------------------------------------------------------------
class RunsCommand:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


with open(path("evil/reduce.pkl"), "wb") as f:
    pickle.dump({"model": RunsCommand()}, f)
with open(path("evil/protocol0.pkl"), "wb") as f:
    f.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
# Protocol 4: the module and name strings are memoized, popped, and fetched back with BINGET for STACK_GLOBAL.
with open(path("evil/memo_stack_global.pkl"), "wb") as f:
    f.write(b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
            b"\x8c\x05posix\x94" b"0" b"\x8c\x06system\x94" b"0"
            b"h\x00h\x01\x93\x8c\x0aecho pwned\x85R.")
# A PyTorch checkpoint whose pickle calls os.system, saved under an innocent name, in an archive named like a model.
buffer = io.BytesIO()
torch.save({"state_dict": net.state_dict(), "hook": RunsCommand()}, buffer)
with open(path("evil/weights.bin"), "wb") as f:
    f.write(buffer.getvalue())
# The same payload as an extra entry of a genuine checkpoint, named like data.
with zipfile.ZipFile(io.BytesIO(open(os.path.join(out, "torch/state_dict.pt"), "rb").read())) as src, \
        zipfile.ZipFile(path("evil/extra_entry.pt"), "w") as dst:
    for info in src.infolist():
        dst.writestr(info, src.read(info.filename))
    dst.writestr("state_dict/extra/config", pickle.dumps(RunsCommand(), protocol=4))
# joblib: the payload after a numpy array's inline bytes.
joblib.dump({"weights": np.zeros((64, 64)), "evil": RunsCommand()}, path("evil/model.joblib"))
joblib.dump({"weights": np.zeros((64, 64)), "evil": RunsCommand()}, path("evil/model_compressed.joblib"), compress=3)
# An object array whose element runs a command.
np.save(path("evil/objects.npy"), np.array([RunsCommand()], dtype=object), allow_pickle=True)
# Only a global outside the allow list: suspicious, not dangerous.
with open(path("suspicious/unknown_global.pkl"), "wb") as f:
    f.write(b"\x80\x04\x8c\x08acme.lib\x94\x8c\x05Thing\x94\x93)R.")
