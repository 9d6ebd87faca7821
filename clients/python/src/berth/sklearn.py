"""scikit-learn models in Berth: :func:`log_model` pickles an estimator and pushes it, :func:`load_model` pulls one.

scikit-learn is not imported by this module: an estimator you pass brings it along.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
from typing import Any, Mapping, Optional, Sequence

from ._frameworks import log
from .client import Client
from .types import PushResult

__all__ = ["log_model", "load_model", "FILENAME"]

FILENAME = "model.pkl"


def log_model(
    estimator: Any,
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
    """Pickles ``estimator`` as ``model.pkl`` and pushes it as a version of ``model`` (``namespace/model``).

    The estimator's own parameters (``get_params(deep=False)``, as text) become the version's params, under what
    ``params`` gives; its class (``estimator``), ``framework=scikit-learn`` and the scikit-learn version become tags.
    Other keyword arguments go to :meth:`berth.Client.push` (``allow_unchanged``, ``progress`` …).

    >>> from sklearn.linear_model import LogisticRegression
    >>> clf = LogisticRegression(C=0.5).fit(X, y)
    >>> berth.sklearn.log_model(clf, "acme/fraud", metrics={"auc": 0.93}, aliases=["candidate"]).version.number
    4
    """
    cls = type(estimator)
    found = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    sklearn = sys.modules.get("sklearn")

    def write(folder: str) -> None:
        with open(os.path.join(folder, FILENAME), "wb") as f:
            pickle.dump(estimator, f, protocol=4)

    return log(write, model, client=client, auto_params=found,
               auto_tags={"framework": "scikit-learn", "estimator": f"{cls.__module__}.{cls.__qualname__}",
                          "sklearn_version": getattr(sklearn, "__version__", None)},
               version=version, description=description, metrics=metrics, params=params, tags=tags, aliases=aliases,
               lineage=lineage, push_options=push_options)


def load_model(reference: str, *, client: Optional[Client] = None) -> Any:
    """Pulls a version pushed by :func:`log_model` and unpickles its ``model.pkl``.

    Unpickling runs code from the file: load only models from a registry and namespace you trust.

    >>> clf = berth.sklearn.load_model("acme/fraud:production")
    """
    with tempfile.TemporaryDirectory(prefix="berth-model-") as folder:
        (client or Client()).pull(reference, folder, progress=False)
        with open(os.path.join(folder, FILENAME), "rb") as f:
            return pickle.load(f)
