"""Berth's Python client: push, pull, promote and watch models in a Berth registry.

Standard library only. Start with :class:`Client`::

    import berth

    client = berth.Client()                      # BERTH_URL / BERTH_TOKEN, else the login 'berth login' saved
    result = client.push("model/", "acme/fraud", version="1.3.0", metrics={"auc": 0.93}, aliases=["candidate"])
    client.set_stage(result.version.reference, "staging")
    client.pull("acme/fraud:staging", "deploy/")

Training runs log metrics without slowing the loop (:func:`start_run`, :class:`RunSession`)::

    with berth.start_run("acme/fraud", params={"lr": 0.01}) as run:
        for step in range(1000):
            run.log({"loss": loss, "acc": acc}, step=step)

Errors are :class:`BerthError` subclasses carrying the server's ``code``, ``detail`` and ``request_id``.
Framework helpers (each imports its framework only when called): :mod:`berth.sklearn`, :mod:`berth.torch`,
:mod:`berth.onnx`.
"""

from ._runs import RunSession, RunSessionOptions
from .client import Client, __version__, parse_reference, parse_run_reference, start_run
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
    MetricBucket,
    MetricSeries,
    MetricSummary,
    Model,
    Namespace,
    PullResult,
    PullWarning,
    PushResult,
    Request,
    Review,
    Run,
    RunFile,
    RunFiles,
    RunLineage,
    SeriesPoint,
    SeriesSet,
    TransitionResult,
    Version,
    WhoAmI,
)

__all__ = [
    "Client",
    "parse_reference",
    "parse_run_reference",
    "start_run",
    "RunSession",
    "RunSessionOptions",
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
    "MetricBucket",
    "MetricSeries",
    "MetricSummary",
    "Model",
    "Namespace",
    "PullResult",
    "PullWarning",
    "PushResult",
    "Request",
    "Review",
    "Run",
    "RunFile",
    "RunFiles",
    "RunLineage",
    "SeriesPoint",
    "SeriesSet",
    "TransitionResult",
    "Version",
    "WhoAmI",
]
