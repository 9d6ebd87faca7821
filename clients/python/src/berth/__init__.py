"""Berth's Python client: push, pull, promote and watch models in a Berth registry.

Standard library only. Start with :class:`Client`::

    import berth

    client = berth.Client()                      # BERTH_URL / BERTH_TOKEN, else the login 'berth login' saved
    result = client.push("model/", "acme/fraud", version="1.3.0", metrics={"auc": 0.93}, aliases=["candidate"])
    client.set_stage(result.version.reference, "staging")
    client.pull("acme/fraud:staging", "deploy/")

Errors are :class:`BerthError` subclasses carrying the server's ``code``, ``detail`` and ``request_id``.
Framework helpers (each imports its framework only when called): :mod:`berth.sklearn`, :mod:`berth.torch`,
:mod:`berth.onnx`.
"""

from .client import Client, __version__, parse_reference
from .errors import (
    BadRequest,
    BerthError,
    Conflict,
    ConnectionFailed,
    DigestMismatch,
    Forbidden,
    GateFailed,
    Gone,
    InvalidReference,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PullConflict,
    QuotaExceeded,
    RateLimited,
    ServerError,
    Unauthorized,
)
from .types import (
    Alias,
    Dataset,
    Deployment,
    DeploymentState,
    Event,
    EventBatch,
    FileEntry,
    HistoryEntry,
    Holders,
    Lineage,
    Model,
    Namespace,
    PullResult,
    PullWarning,
    PushResult,
    Request,
    Review,
    TransitionResult,
    Version,
    WhoAmI,
)

__all__ = [
    "Client",
    "parse_reference",
    "__version__",
    "BerthError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Gone",
    "PreconditionFailed",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "DigestMismatch",
    "GateFailed",
    "QuotaExceeded",
    "PullConflict",
    "ConnectionFailed",
    "InvalidReference",
    "Alias",
    "Dataset",
    "Deployment",
    "DeploymentState",
    "Event",
    "EventBatch",
    "FileEntry",
    "HistoryEntry",
    "Holders",
    "Lineage",
    "Model",
    "Namespace",
    "PullResult",
    "PullWarning",
    "PushResult",
    "Request",
    "Review",
    "TransitionResult",
    "Version",
    "WhoAmI",
]
