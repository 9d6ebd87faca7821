"""ONNX models in Berth: :func:`log_model` pushes a ``ModelProto`` (or its bytes, or an ``.onnx`` file).

The ``onnx`` package is not needed to push: a ``ModelProto`` serialises itself.
"""

from __future__ import annotations

import os
import shutil
from typing import Any, Dict, Mapping, Optional, Sequence

from ._frameworks import log
from .client import Client
from .types import PushResult

__all__ = ["log_model", "FILENAME"]

FILENAME = "model.onnx"


def log_model(
    model_proto: Any,
    model: str,
    *,
    client: Optional[Client] = None,
    version: Optional[str] = None,
    description: Optional[str] = None,
    metrics: Optional[Mapping[str, float]] = None,
    params: Optional[Mapping[str, Any]] = None,
    tags: Optional[Mapping[str, Any]] = None,
    aliases: Optional[Sequence[str]] = None,
    lineage: Any = None,
    **push_options: Any,
) -> PushResult:
    """Pushes an ONNX model as ``model.onnx``: a ``ModelProto``, its serialised bytes, or the path of an ``.onnx``
    file. The producer, the IR version and the opsets become tags. Other keyword arguments go to
    :meth:`berth.Client.push`.

    >>> berth.onnx.log_model(onnx.load("fraud.onnx"), "acme/fraud", metrics={"auc": 0.93}).version.number
    5
    """
    found: Dict[str, Any] = {"framework": "onnx"}
    if hasattr(model_proto, "SerializeToString"):
        found["onnx_producer"] = getattr(model_proto, "producer_name", None) or None
        found["onnx_ir_version"] = getattr(model_proto, "ir_version", None)
        opsets = getattr(model_proto, "opset_import", None) or []
        found["onnx_opsets"] = ",".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in opsets) or None

    def write(folder: str) -> None:
        target = os.path.join(folder, FILENAME)
        if hasattr(model_proto, "SerializeToString"):
            data = model_proto.SerializeToString()
        elif isinstance(model_proto, (bytes, bytearray, memoryview)):
            data = bytes(model_proto)
        elif isinstance(model_proto, (str, os.PathLike)):
            shutil.copyfile(model_proto, target)
            return
        else:
            raise TypeError(f"Expected an onnx.ModelProto, bytes or a path, not {type(model_proto).__name__}.")
        with open(target, "wb") as f:
            f.write(data)

    return log(write, model, client=client, auto_params={}, auto_tags=found, version=version, description=description,
               metrics=metrics, params=params, tags=tags, aliases=aliases, lineage=lineage, push_options=push_options)
