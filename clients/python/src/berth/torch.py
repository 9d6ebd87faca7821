"""PyTorch models in Berth: :func:`log_model` saves a module's state dict and pushes it.

PyTorch (and safetensors) are imported only when a function here is called.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence

from ._frameworks import log
from .client import Client
from .types import PushResult

__all__ = ["log_model", "load_state_dict"]


def log_model(
    module: Any,
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
    """Saves ``module.state_dict()`` and pushes it as a version of ``model``: as ``model.safetensors`` when the
    ``safetensors`` package is installed, else as ``model.pt`` (``torch.save``). The module's class, the number of
    parameters and ``framework=pytorch`` become tags and params. Other keyword arguments go to
    :meth:`berth.Client.push`.

    >>> berth.torch.log_model(net, "acme/vision", metrics={"top1": 0.81}).version.reference
    'acme/vision:3'
    """
    import torch

    cls = type(module)
    state = module.state_dict()

    def write(folder: str) -> None:
        try:
            from safetensors.torch import save_file  # type: ignore
        except ImportError:
            save_file = None
        if save_file is not None:
            try:
                save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(folder, "model.safetensors"))
                return
            except (RuntimeError, ValueError):
                pass  # shared or non-tensor entries: fall back to torch.save
        torch.save(state, os.path.join(folder, "model.pt"))

    count = sum(int(p.numel()) for p in module.parameters()) if hasattr(module, "parameters") else None
    return log(write, model, client=client, auto_params={"parameters": str(count)} if count is not None else {},
               auto_tags={"framework": "pytorch", "module": f"{cls.__module__}.{cls.__qualname__}",
                          "torch_version": getattr(torch, "__version__", None)},
               version=version, description=description, metrics=metrics, params=params, tags=tags, aliases=aliases,
               lineage=lineage, push_options=push_options)


def load_state_dict(reference: str, *, client: Optional[Client] = None, map_location: Any = "cpu") -> Any:
    """Pulls a version pushed by :func:`log_model` and returns its state dict (``module.load_state_dict(...)`` it).

    >>> net.load_state_dict(berth.torch.load_state_dict("acme/vision:production"))
    """
    import tempfile

    import torch

    with tempfile.TemporaryDirectory(prefix="berth-model-") as folder:
        (client or Client()).pull(reference, folder, progress=False)
        path = os.path.join(folder, "model.safetensors")
        if os.path.exists(path):
            from safetensors.torch import load_file

            return load_file(path, device=str(map_location))
        return torch.load(os.path.join(folder, "model.pt"), map_location=map_location)
