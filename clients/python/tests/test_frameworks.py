"""The framework helpers against real scikit-learn, PyTorch and ONNX (Debian's python3-sklearn, -torch, -onnx)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import berth
import berth.onnx
import berth.sklearn
import berth.torch
from conftest import HERE, tree


def test_the_helpers_import_no_framework() -> None:
    code = "import sys, berth, berth.sklearn, berth.torch, berth.onnx; print(sorted({'torch', 'sklearn', 'onnx', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(HERE.parent / "src")}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_sklearn_models_are_pickled_with_their_class_and_params(client: berth.Client, ns: str) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    classifier = LogisticRegression(C=0.25, max_iter=300).fit(x, y)
    pushed = berth.sklearn.log_model(classifier, f"{ns}/clf", client=client, metrics={"accuracy": 0.9}, params={"seed": 0},
                                     aliases=["candidate"], progress=False)
    version = pushed.version
    assert version.params["C"] == "0.25" and version.params["max_iter"] == "300" and version.params["seed"] == "0"
    assert version.tags["framework"] == "scikit-learn"
    assert version.tags["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert version.aliases == ["candidate"] and version.metrics == {"accuracy": 0.9}
    assert [f.path for f in client.get_version(version.reference, files=True).files or []] == ["model.pkl"]
    loaded = berth.sklearn.load_model(f"{ns}/clf:candidate", client=client)
    assert (loaded.predict(x) == classifier.predict(x)).all()


def test_torch_modules_are_saved_as_state_dicts(client: berth.Client, ns: str) -> None:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    pushed = berth.torch.log_model(net, f"{ns}/net", client=client, metrics={"loss": 0.1}, progress=False)
    assert pushed.version.tags["framework"] == "pytorch" and pushed.version.params["parameters"] == str(4 * 8 + 8 + 8 * 2 + 2)
    files = [f.path for f in client.get_version(pushed.version.reference, files=True).files or []]
    assert files in (["model.pt"], ["model.safetensors"])
    copy = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    copy.load_state_dict(berth.torch.load_state_dict(f"{ns}/net", client=client))
    sample = torch.randn(3, 4)
    assert torch.equal(copy(sample), net(sample))


def test_onnx_models_are_pushed_as_model_onnx(client: berth.Client, ns: str, tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    proto = helper.make_model(graph, producer_name="berth-tests", opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(proto)
    pushed = berth.onnx.log_model(proto, f"{ns}/relu", client=client, progress=False)
    assert pushed.version.tags["framework"] == "onnx" and pushed.version.tags["onnx_producer"] == "berth-tests"
    assert pushed.version.tags["onnx_opsets"] == "ai.onnx:13"
    client.pull(pushed.version.reference, str(tmp_path / "out"), progress=False)
    assert tree(tmp_path / "out") == {"model.onnx": proto.SerializeToString()}
    assert onnx.load(str(tmp_path / "out" / "model.onnx")).graph.node[0].op_type == "Relu"
