"""The Berth client: one object per server, safe to share between threads."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union, overload

from . import _events, _pull, _push, errors
from ._runs import RUN_ID_VARIABLE, END_STATUSES, RunSession, RunSessionOptions
from ._files import DigestCache, ResumeStore
from ._http import Connections, QueryValue, Transport, segment
from ._progress import Progress, ProgressOption
from .config import cache_dir, resolve
from .types import (
    Alias,
    Deployment,
    Event,
    EventBatch,
    FileEntry,
    HistoryEntry,
    Holders,
    Lineage,
    Model,
    Namespace,
    PullResult,
    PushResult,
    Request,
    Run,
    RunFile,
    RunFiles,
    RunLineage,
    SeriesPoint,
    SeriesSet,
    MetricSeries,
    TransitionResult,
    Version,
    WhoAmI,
)

__all__ = ["Client", "parse_reference", "parse_run_reference"]

__version__ = "0.1.0"

T = TypeVar("T")

_NAME = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


def parse_reference(text: str, default_namespace: Optional[str] = None) -> Tuple[str, str, Optional[str]]:
    """Splits ``[namespace/]model[:selector]`` or ``[namespace/]model@sha256:<hex>`` into
    ``(namespace, model, selector or None)``; the namespace defaults to ``default_namespace``.

    Raises :class:`~berth.InvalidReference` for anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise errors.InvalidReference("Empty model reference: use [namespace/]model[:selector], e.g. acme/fraud:3.")
    selector: Optional[str] = None
    if "@" in text:
        path, selector = text.split("@", 1)
        if not selector.startswith("sha256:"):
            raise errors.InvalidReference(f"Invalid reference '{text}': '@' must be followed by sha256:<hex>.")
    elif ":" in text:
        path, selector = text.split(":", 1)
    else:
        path = text
    if path.count("/") > 1:
        raise errors.InvalidReference(f"Invalid reference '{text}': use namespace/model, with one '/'.")
    ns, _, model = path.rpartition("/")
    ns = ns or (default_namespace or "")
    if not ns:
        raise errors.InvalidReference(
            f"'{text}' has no namespace and no default namespace is set: write namespace/{model}, or set BERTH_NAMESPACE.")
    if not (2 <= len(ns) <= 64 and _NAME.match(ns)):
        raise errors.InvalidReference(f"Invalid namespace '{ns}' in '{text}': 2–64 lowercase letters and digits, with single - _ . between them.")
    if not (1 <= len(model) <= 128 and _NAME.match(model)):
        raise errors.InvalidReference(f"Invalid model name '{model}' in '{text}': 1–128 lowercase letters and digits, with single - _ . between them.")
    if selector is not None and not selector:
        raise errors.InvalidReference(f"Invalid reference '{text}': nothing after ':'.")
    return ns, model, selector


def parse_run_reference(text: str, default_namespace: Optional[str] = None) -> Tuple[str, str, str]:
    """Splits a run reference ``[namespace/]model/id`` (what ``berth run start`` prints and :attr:`RunSession.ref`
    holds, e.g. ``acme/fraud/k3v7q2mxa4bd``) into ``(namespace, model, id)``, as the CLI does: the id is what follows
    the last ``/``, the rest is a model reference without a selector.

    Raises :class:`~berth.InvalidReference` for anything else.
    """
    if not isinstance(text, str) or "/" not in text.strip("/ ") or text.endswith("/"):
        raise errors.InvalidReference(f"Invalid run reference {text!r}: name a run as namespace/model/id (as 'berth run start' prints it).")
    path, _, run_id = text.strip().rpartition("/")
    ns, model, selector = parse_reference(path, default_namespace)
    if selector is not None or not run_id or any(c in run_id for c in ":@ "):
        raise errors.InvalidReference(f"Invalid run reference {text!r}: name a run as namespace/model/id (as 'berth run start' prints it).")
    return ns, model, run_id


class Client:
    """A connection to a Berth server.

    ``url``, ``token`` and ``namespace`` default to ``BERTH_URL``, ``BERTH_TOKEN`` and ``BERTH_NAMESPACE``, else to
    the login ``berth login`` saved (see :mod:`berth.config`); so ``berth login`` once serves the CLI and Python.
    ``namespace`` is the default for references written without one (``fraud:3``). ``timeout`` is the limit of
    each metadata call in seconds; transfers have none as a whole (a connection silent for ``transfer_timeout``
    seconds is broken and resumed).

    Example::

        import berth
        client = berth.Client()                       # or berth.Client("http://127.0.0.1:8282", token="berth_…")
        result = client.push("model/", "acme/fraud", metrics={"auc": 0.93}, aliases=["candidate"])
        client.set_stage(result.version.reference, "staging")
        client.pull("acme/fraud:staging", "deploy/")
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *, namespace: Optional[str] = None,
                 timeout: float = 100.0, transfer_timeout: float = 300.0, user_agent: Optional[str] = None) -> None:
        settings = resolve(url, token, namespace)
        self.url = settings.url
        self.namespace = settings.namespace
        agent = user_agent or f"berth-python/{__version__} (Python {sys.version_info[0]}.{sys.version_info[1]})"
        self._http = Transport(settings.url, settings.token, agent, timeout, transfer_timeout)

    def close(self) -> None:
        """Closes the idle connections (the client can still be used afterwards)."""
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"berth.Client({self.url!r})"

    # ---- helpers -----------------------------------------------------------------------------------------------

    def _model(self, model: str) -> Tuple[str, str]:
        ns, name, selector = parse_reference(model, self.namespace)
        if selector is not None:
            raise errors.InvalidReference(f"'{model}' names a version; this takes a model (namespace/model).")
        return ns, name

    def _run_path(self, reference: "RunLike") -> str:
        ns, model, run_id = parse_run_reference(_run_reference(reference), self.namespace)
        return f"models/{segment(ns)}/{segment(model)}/runs/{segment(run_id)}"

    def _series_call(self, path: str, query: Mapping[str, QueryValue]) -> Any:
        """A GET whose answer holds metric values: read so that ``-0`` stays the float -0.0 (``json`` makes it the int 0)."""
        data = self._http.request("GET", path, query=query).data
        return json.loads(data.decode("utf-8"), parse_int=_int_or_negative_zero) if data else None

    def _version_path(self, reference: str) -> str:
        ns, model, selector = parse_reference(reference, self.namespace)
        return f"models/{segment(ns)}/{segment(model)}/versions/{segment(selector or 'latest')}"

    def _pages(self, path: str, query: Optional[Dict[str, QueryValue]], convert: Callable[[Any], T], page_size: Optional[int],
               series: bool = False) -> Iterator[T]:
        params: Dict[str, QueryValue] = dict(query or {})
        if page_size is not None:
            params["limit"] = page_size
        while True:
            page = self._series_call(path, params) if series else self._http.call("GET", path, query=params)
            for item in page.get("items") or []:
                yield convert(item)
            cursor = page.get("nextCursor")
            if not cursor:
                return
            params["cursor"] = cursor

    # ---- who am I ----------------------------------------------------------------------------------------------

    def whoami(self) -> WhoAmI:
        """The user and token the server sees.

        >>> client.whoami().name
        'alice'
        """
        d = self._http.call("GET", "whoami")
        return WhoAmI(d.get("user") or {}, d.get("token"), bool(d.get("anonymous")))

    # ---- transfers ---------------------------------------------------------------------------------------------

    def push(
        self,
        path: str,
        model: str,
        *,
        version: Optional[str] = None,
        description: Optional[str] = None,
        metrics: Optional[Mapping[str, float]] = None,
        params: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        aliases: Optional[Sequence[str]] = None,
        lineage: Optional[Union[Lineage, Mapping[str, Any]]] = None,
        run: Optional["RunLike"] = None,
        allow_unchanged: bool = False,
        parallelism: int = 4,
        progress: ProgressOption = None,
        digest_cache: bool = True,
        single_request_limit: int = _push.SINGLE_REQUEST_LIMIT,
        stream_threshold: Optional[int] = _push.STREAM_THRESHOLD,
    ) -> PushResult:
        """Pushes a folder (or one file) as a new version of ``model`` (``namespace/model``) and returns it ready.

        The transfer is the CLI's: files are hashed (an unchanged file's digest comes from the digest cache the CLI
        shares, so a multi-GB file is not hashed again), the version is declared, only the blobs the server lacks are
        uploaded — ``parallelism`` files at a time, files over ``single_request_limit`` bytes through resumable
        sessions (an interrupted push continues where it stopped when run again), large uncached files streaming
        while they are hashed — and the version is committed. ``params`` and ``tags`` values are sent as text.
        ``lineage`` is a :class:`~berth.Lineage` or a dict of its fields (``run_id``, ``git_commit`` …). ``run`` (a
        :class:`~berth.RunSession`, a run reference ``namespace/model/id`` or a run id) sets ``lineage.run_id``: the run
        must be of the same model, and the version becomes the run's when it is committed.

        When a ready version of the model already has exactly this content and no ``version`` is given, nothing is
        created: ``aliases`` are moved onto that version and the result has ``unchanged=True`` (``allow_unchanged``
        creates a version anyway). ``progress``: ``None`` shows a line on a terminal, ``False`` never, or a callable
        ``(phase, done, total)``.

        >>> r = client.push("model/", "acme/fraud", version="1.3.0", metrics={"auc": 0.93}, aliases=["candidate"])
        >>> r.version.reference, r.bytes_uploaded
        ('acme/fraud:7', 10485760)
        """
        ns, name = self._model(model)
        if run is not None:
            lineage = _with_run(lineage, run)
        cache = cache_dir()
        return _push.push(
            self._http, path, ns, name, version=version, description=description, metrics=metrics, params=params,
            tags=tags, aliases=aliases, lineage=lineage, allow_unchanged=allow_unchanged, parallelism=parallelism,
            progress=Progress(progress, f"push {ns}/{name}"),
            digest_cache=DigestCache(_join(cache, "digests.json")) if digest_cache else None,
            resume=ResumeStore(_join(cache, "uploads.json")),
            single_request_limit=single_request_limit, stream_threshold=stream_threshold,
            get_version=lambda selector: self.get_version(f"{ns}/{name}@{selector}" if selector.startswith("sha256:") else f"{ns}/{name}:{selector}"),
            set_alias=lambda alias, selector: self.set_alias(f"{ns}/{name}", alias, selector),
        )

    def pull(self, reference: str, path: str, *, force: bool = False, parallelism: int = 4, progress: ProgressOption = None) -> PullResult:
        """Downloads a version into the folder ``path``, verified byte for byte, and returns what it did.

        The reference (``acme/fraud:production``, ``acme/fraud:1.3.0``, ``acme/fraud@sha256:…``; no selector means
        ``latest``) is resolved once, so a moving alias cannot mix two versions. Files already there with the right
        content are kept; downloads run ``parallelism`` at a time and resume after a broken connection (also in a later
        pull, from the ``.berth-partial`` file). Symbolic links inside the folder are never followed. Anything in the
        way (a file with other content, a link, a folder) raises :class:`~berth.PullConflict` before anything is
        written, unless ``force=True`` replaces it. A file that does not verify raises :class:`~berth.DigestMismatch`
        and is not kept.

        >>> client.pull("acme/fraud:production", "deploy/model").files_downloaded
        3
        """
        version = self.get_version(reference, files=True)
        pinned = f"models/{segment(version.namespace)}/{segment(version.model)}/versions/{version.number}"
        return _pull.pull(self._http, version, pinned, path, force=force, parallelism=parallelism,
                          progress=Progress(progress, f"pull {version.reference}"))

    # ---- reading ---------------------------------------------------------------------------------------------

    def get_version(self, reference: str, *, files: bool = False) -> Version:
        """One version, by any selector: number (``acme/fraud:7``), semantic version (``:1.3.0``), alias
        (``:champion``), stage (``:production``), ``:latest`` (also without a selector) or manifest digest
        (``acme/fraud@sha256:…``). ``files=True`` includes the file list.

        >>> client.get_version("acme/fraud:production").metrics["auc"]
        0.93
        """
        return Version.from_json(self._http.call("GET", self._version_path(reference), query={"files": "true" if files else None}))

    def get_model(self, model: str) -> Model:
        """A model with its aliases and stage holders.

        >>> client.get_model("acme/fraud").aliases
        {'champion': 6}
        """
        ns, name = self._model(model)
        return Model.from_json(self._http.call("GET", f"models/{segment(ns)}/{segment(name)}"))

    def list_namespaces(self, *, page_size: Optional[int] = None) -> Iterator[Namespace]:
        """The namespaces the caller may read, lazily, page by page.

        >>> [n.name for n in client.list_namespaces()]
        ['acme']
        """
        return self._pages("namespaces", None, Namespace.from_json, page_size)

    def create_namespace(self, name: str, description: Optional[str] = None) -> Namespace:
        """Creates a namespace (server administrators; others through their first push into their own name).

        >>> client.create_namespace("acme", "Fraud team").name
        'acme'
        """
        return Namespace.from_json(self._http.call("POST", "namespaces", json_body={"name": name, "description": description}))

    def list_models(self, namespace: Optional[str] = None, *, page_size: Optional[int] = None) -> Iterator[Model]:
        """The models of a namespace (default: the client's), lazily over keyset pages.

        >>> [m.name for m in client.list_models("acme")]
        ['fraud', 'churn']
        """
        ns = namespace or self.namespace
        if not ns:
            raise errors.InvalidReference("Name a namespace: list_models('acme'), or set BERTH_NAMESPACE.")
        return self._pages(f"models/{segment(ns)}", None, Model.from_json, page_size)

    def list_versions(self, model: str, *, all_states: bool = False, page_size: Optional[int] = None) -> Iterator[Version]:
        """The ready versions of a model, newest first, lazily over keyset pages (``all_states``: also pending,
        failed and deleted ones).

        >>> [v.number for v in client.list_versions("acme/fraud")]
        [3, 2, 1]
        """
        ns, name = self._model(model)
        return self._pages(f"models/{segment(ns)}/{segment(name)}/versions", {"state": "all" if all_states else None}, Version.from_json, page_size)

    def search(self, filter: Optional[str] = None, *, sort: Optional[str] = None, page_size: Optional[int] = None) -> Iterator[Version]:
        """Ready versions matching a filter expression (docs/filters.md), lazily over keyset pages.

        >>> best = next(client.search("namespace = 'acme' and name = 'fraud' and metrics.auc >= 0.9", sort="-metrics.auc"))
        """
        return self._pages("search", {"q": filter, "sort": sort}, Version.from_json, page_size)

    def delete_version(self, reference: str) -> Version:
        """Deletes a version (soft: it leaves pulls, listings and selectors; its number is never reused).

        >>> client.delete_version("acme/fraud:2").state
        'deleted'
        """
        return Version.from_json(self._http.call("DELETE", self._version_path(reference)))

    # ---- aliases, stages, tags -----------------------------------------------------------------------------

    def list_aliases(self, model: str) -> List[Alias]:
        """The aliases of a model.

        >>> [(a.name, a.version) for a in client.list_aliases("acme/fraud")]
        [('champion', 6)]
        """
        ns, name = self._model(model)
        return list(self._pages(f"models/{segment(ns)}/{segment(name)}/aliases", None, Alias.from_json, None))

    def set_alias(self, model: str, alias: str, version: Union[str, int]) -> TransitionResult:
        """Points ``alias`` at a version (any selector of the model: ``7``, ``1.3.0``, ``staging`` …).

        A protected alias opens a transition request instead: ``outcome == 'requested'`` and ``request`` is set.

        >>> client.set_alias("acme/fraud", "champion", 7).outcome
        'applied'
        """
        ns, name = self._model(model)
        return TransitionResult.from_json(self._http.call(
            "PUT", f"models/{segment(ns)}/{segment(name)}/aliases/{segment(alias)}", json_body={"version": str(version)}))

    def remove_alias(self, model: str, alias: str) -> None:
        """Removes an alias.

        >>> client.remove_alias("acme/fraud", "candidate")
        """
        ns, name = self._model(model)
        self._http.request("DELETE", f"models/{segment(ns)}/{segment(name)}/aliases/{segment(alias)}")

    def set_stage(self, reference: str, stage: str, *, comment: Optional[str] = None) -> TransitionResult:
        """Moves a version to a stage (``staging``, ``production``, ``archived`` …).

        Into a protected stage this opens a transition request (``outcome == 'requested'``, see :meth:`approve`);
        a stage's gate that the version fails raises :class:`~berth.GateFailed`.

        >>> client.set_stage("acme/fraud:7", "production", comment="better recall").outcome
        'requested'
        """
        return TransitionResult.from_json(self._http.call(
            "PUT", self._version_path(reference) + "/stage", json_body={"stage": stage, "comment": comment}))

    def evaluate(self, reference: str, metrics: Mapping[str, float], *, dataset: Optional[str] = None,
                 run: Optional[str] = None, note: Optional[str] = None) -> Dict[str, Any]:
        """Records an evaluation of a ready version: metrics measured after its push (docs/runs.md, "Evaluations"),
        on ``dataset``, by ``run`` (the id of a run of the same model). They become the version's effective metrics
        (search, sorting and stage gates use them); the pushed values are kept (``Version.raw["evaluatedMetrics"]``).
        Returns the evaluation as the server answers it (``id``, ``metrics``, ``dataset``, ``run``, ``createdBy`` …).
        Retried safely (one idempotency key for every attempt).

        >>> client.evaluate("acme/fraud:3", {"auc": 0.934}, dataset="holdout-2026-11")["metrics"]
        {'auc': 0.934}
        """
        body = {"metrics": {str(k): float(v) for k, v in metrics.items()}, "dataset": dataset, "run": run, "note": note}
        return self._http.call_retrying("POST", self._version_path(reference) + "/evaluations", json_body=body,
                                        headers={"Idempotency-Key": uuid.uuid4().hex})

    def tag(self, reference: str, tags: Optional[Mapping[str, Any]] = None, *, remove: Sequence[str] = (),
            description: Optional[str] = None) -> Version:
        """Sets (and removes) tags of a version, and optionally its description; values are sent as text.

        >>> client.tag("acme/fraud:7", {"validated": "true"}, remove=["wip"]).tags
        {'validated': 'true'}
        """
        body = {"description": description, "setTags": {str(k): str(v) for k, v in (tags or {}).items()} or None,
                "removeTags": list(remove) or None}
        return Version.from_json(self._http.call("PATCH", self._version_path(reference), json_body=body))

    def tag_model(self, model: str, tags: Optional[Mapping[str, Any]] = None, *, remove: Sequence[str] = (),
                  description: Optional[str] = None) -> Model:
        """Sets (and removes) tags of a model, and optionally its description (a markdown model card).

        >>> client.tag_model("acme/fraud", {"team": "risk"}).tags
        {'team': 'risk'}
        """
        ns, name = self._model(model)
        body = {"description": description, "setTags": {str(k): str(v) for k, v in (tags or {}).items()} or None,
                "removeTags": list(remove) or None}
        return Model.from_json(self._http.call("PATCH", f"models/{segment(ns)}/{segment(name)}", json_body=body))

    @overload
    def history(self, model: str, *, kind: Optional[str] = None, stage: Optional[str] = None, alias: Optional[str] = None,
                at: None = None) -> Iterator[HistoryEntry]: ...

    @overload
    def history(self, model: str, *, at: Union[datetime, str], kind: Optional[str] = None, stage: Optional[str] = None,
                alias: Optional[str] = None) -> Holders: ...

    def history(self, model: str, *, kind: Optional[str] = None, stage: Optional[str] = None, alias: Optional[str] = None,
                at: Union[None, datetime, str] = None) -> Union[Iterator[HistoryEntry], Holders]:
        """A model's stage changes, alias moves, requests and deletions, oldest first (``kind``: ``stage``, ``alias``,
        ``deleted`` or ``request``; ``stage``/``alias``: only those about it).

        With ``at`` (a ``datetime``, naive meaning UTC, or ISO 8601 text), time travel instead: which versions held
        ``stage`` (or which version ``alias`` named) at that moment, as :class:`~berth.Holders`.

        >>> [e.to_stage for e in client.history("acme/fraud", kind="stage")]
        ['staging', 'production']
        >>> client.history("acme/fraud", stage="production", at="2026-03-01T12:00Z").versions
        [5]
        """
        ns, name = self._model(model)
        base = f"models/{segment(ns)}/{segment(name)}/history"
        if at is not None:
            if isinstance(at, datetime):
                moment = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
            else:
                moment = str(at)
            return Holders.from_json(self._http.call("GET", base + "/holders", query={"at": moment, "stage": stage, "alias": alias}))
        return self._pages(base, {"kind": kind, "stage": stage, "alias": alias}, HistoryEntry.from_json, None)

    # ---- transition requests --------------------------------------------------------------------------------

    def request_stage(self, reference: str, stage: str, *, comment: Optional[str] = None) -> TransitionResult:
        """Asks to move a version into a stage: the same call as :meth:`set_stage`, which opens a request where
        the stage is protected and applies the change where it is not.

        >>> client.request_stage("acme/fraud:7", "production", comment="Q3 recall").request.id
        12
        """
        return self.set_stage(reference, stage, comment=comment)

    def list_requests(self, namespace: Optional[str] = None, *, state: Optional[str] = None) -> Iterator[Request]:
        """Transition requests (``state``: ``open`` by default, ``applied``, ``rejected``, ``cancelled``,
        ``superseded`` or ``all``), of one namespace or every one the caller may read.

        >>> [r.id for r in client.list_requests("acme")]
        [12]
        """
        return self._pages("requests", {"namespace": namespace, "state": state}, Request.from_json, None)

    def get_request(self, request_id: int) -> Request:
        """One transition request with its approvals, gate result and reviews.

        >>> client.get_request(12).state
        'open'
        """
        return Request.from_json(self._http.call("GET", f"requests/{int(request_id)}"))

    def approve(self, request_id: int, comment: Optional[str] = None) -> Request:
        """Approves a request (approvers other than its requester); it is applied once enough approvals are in.

        >>> client.approve(12, "checked the Q3 numbers").state
        'applied'
        """
        return Request.from_json(self._http.call("POST", f"requests/{int(request_id)}/approve", json_body={"comment": comment}))

    def reject(self, request_id: int, comment: Optional[str] = None) -> Request:
        """Rejects a request (approvers); it is closed.

        >>> client.reject(12, "recall dropped on segment B").state
        'rejected'
        """
        return Request.from_json(self._http.call("POST", f"requests/{int(request_id)}/reject", json_body={"comment": comment}))

    def cancel_request(self, request_id: int, comment: Optional[str] = None) -> Request:
        """Withdraws a request (its requester or a namespace admin).

        >>> client.cancel_request(12).state
        'cancelled'
        """
        return Request.from_json(self._http.call("POST", f"requests/{int(request_id)}/cancel", json_body={"comment": comment}))

    # ---- deployments -----------------------------------------------------------------------------------------

    def record_deployment(self, reference: str, environment: str, status: str, *, endpoint: Optional[str] = None,
                          comment: Optional[str] = None) -> Deployment:
        """Records where a version runs (``status``: ``deploying``, ``live``, ``retired`` or ``failed``); a new live or
        deploying version retires the previous one in that environment.

        >>> client.record_deployment("acme/fraud:7", "prod-eu", "live", endpoint="https://scoring.acme.io").status
        'live'
        """
        return Deployment.from_json(self._http.call(
            "POST", self._version_path(reference) + "/deployments",
            json_body={"environment": environment, "status": status, "endpoint": endpoint, "comment": comment}))

    def list_deployments(self, model: str, *, environment: Optional[str] = None, version: Union[None, str, int] = None) -> Iterator[Deployment]:
        """A model's deployment records, newest first; optionally one environment or one version.

        >>> [(d.environment, d.version, d.status) for d in client.list_deployments("acme/fraud")]
        [('prod-eu', 7, 'live'), ('prod-eu', 6, 'retired')]
        """
        ns, name = self._model(model)
        return self._pages(f"models/{segment(ns)}/{segment(name)}/deployments",
                           {"environment": environment, "version": None if version is None else str(version)}, Deployment.from_json, None)

    # ---- runs --------------------------------------------------------------------------------------------------

    def start_run(
        self,
        model: Optional[str] = None,
        *,
        name: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        note: Optional[str] = None,
        lineage: Optional[Union[RunLineage, Mapping[str, Any]]] = None,
        environment: Optional[Mapping[str, Any]] = None,
        options: Optional[RunSessionOptions] = None,
    ) -> RunSession:
        """Starts a run of ``model`` (``namespace/model``; created on first use, as by a push) and returns the
        :class:`~berth.RunSession` that logs into it; use it in a ``with`` block so that it ends the run.

        ``params``, ``tags`` and ``environment`` values are sent as text; ``lineage`` is a :class:`~berth.RunLineage` or
        a dict of its fields (``git_commit``, ``git_dirty``, ``datasets``, ``parent_run`` …); ``options`` tunes the
        buffering (:class:`~berth.RunSessionOptions`).

        **Inside** ``berth run exec`` (``BERTH_RUN_ID`` is set to the reference of the run it started), this attaches to
        that run instead, whatever ``model`` says: no run is created, ``name``, ``tags`` and ``note`` are applied to it,
        and leaving the ``with`` block sends what is buffered but leaves ending the run to ``berth run exec``.

        >>> with client.start_run("acme/fraud", params={"lr": 0.01}) as run:
        ...     run.log({"loss": 0.3}, step=1)
        >>> run.final.status
        'finished'
        """
        attach = os.environ.get(RUN_ID_VARIABLE, "").strip()
        if attach:
            return self._attach_for_exec(attach, name=name, params=params, tags=tags, note=note, options=options)
        if model is None:
            raise ValueError("start_run needs the model the run belongs to, e.g. start_run('acme/fraud') "
                             f"(or {RUN_ID_VARIABLE}, which 'berth run exec' sets).")
        ns, model_name = self._model(model)
        if lineage is not None and not isinstance(lineage, RunLineage):
            lineage = _run_lineage(lineage)
        body = {
            "name": name,
            "params": _texts(params),
            "tags": _texts(tags),
            "note": note,
            "lineage": lineage.to_json() if lineage is not None else None,
            "environment": _texts(environment),
        }
        created = self._http.call_retrying("POST", f"models/{segment(ns)}/{segment(model_name)}/runs",
                                           json_body=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        return RunSession(self, Run.from_json(created), options=options)

    def attach_run(self, reference: str, *, finish: bool = False, options: Optional[RunSessionOptions] = None) -> RunSession:
        """A :class:`~berth.RunSession` that logs into an existing run (``namespace/model/id``), e.g. one started by
        another process. Leaving its ``with`` block sends what is buffered; it ends the run only with ``finish=True``.
        Steps left out continue after each metric's last stored step.

        >>> with client.attach_run("acme/fraud/k3v7q2mxa4bd") as run:
        ...     run.log({"val_auc": 0.93})
        """
        run = self.get_run(reference)
        return RunSession(self, run, finish_on_exit=finish, options=options)

    def _attach_for_exec(self, reference: str, *, name: Optional[str], params: Optional[Mapping[str, Any]],
                         tags: Optional[Mapping[str, Any]], note: Optional[str], options: Optional[RunSessionOptions]) -> RunSession:
        try:
            parse_run_reference(reference, self.namespace)
        except errors.InvalidReference as e:
            raise errors.InvalidReference(f"{RUN_ID_VARIABLE}={reference!r} is not a run reference namespace/model/id "
                                          f"(as 'berth run start' prints it): {e.detail}") from None
        run = self.get_run(reference)
        if name is not None or note is not None or tags:
            run = self.update_run(reference, name=name, note=note, tags=tags)
        differing = {k: v for k, v in (_texts(params) or {}).items() if run.params.get(k) != v}
        if differing:
            import warnings

            warnings.warn(f"Run {run.reference} (from {RUN_ID_VARIABLE}) was started without the params "
                          f"{sorted(differing)}, and params cannot change after a run starts: pass them to 'berth run exec'.",
                          RuntimeWarning, stacklevel=3)
        return RunSession(self, run, finish_on_exit=False, options=options)

    def get_run(self, reference: str) -> Run:
        """One run, by its reference ``namespace/model/id``, with its params, tags, lineage and metric summaries.

        >>> client.get_run("acme/fraud/k3v7q2mxa4bd").metrics["loss"].last
        0.21
        """
        return Run.from_json(self._http.call("GET", self._run_path(reference)))

    def list_runs(self, model: str, *, filter: Optional[str] = None, sort: Optional[str] = None,
                  page_size: Optional[int] = None) -> Iterator[Run]:
        """The runs of a model, newest first, lazily over keyset pages. ``filter`` uses the filter language over
        ``name``, ``status``, ``created``, ``metrics.<key>`` (the last value), ``params.<key>`` and ``tags.<key>``
        (docs/filters.md#runs); ``sort`` is ``created`` or ``metrics.<key>``, ``-`` first for descending.

        >>> [r.id for r in client.list_runs("acme/fraud", filter="status = 'finished'", sort="-metrics.val_auc")]
        ['k3v7q2mxa4bd', 'p2x4m7qa3b2c']
        """
        ns, name = self._model(model)
        return self._pages(f"models/{segment(ns)}/{segment(name)}/runs", {"filter": filter, "sort": sort}, Run.from_json, page_size)

    def update_run(self, reference: str, *, name: Optional[str] = None, note: Optional[str] = None,
                   tags: Optional[Mapping[str, Any]] = None, remove_tags: Sequence[str] = ()) -> Run:
        """Changes a run's name and note (``""`` clears them) and tags (values sent as text; ``remove_tags`` are
        removed); what is left ``None`` stays. Works on ended runs too.

        >>> client.update_run("acme/fraud/k3v7q2mxa4bd", note="baseline", tags={"best": "true"}).note
        'baseline'
        """
        body = {"name": name, "note": note, "setTags": _texts(tags), "removeTags": list(remove_tags) or None}
        return Run.from_json(self._http.call("PATCH", self._run_path(reference), json_body=body))

    def finish_run(self, reference: str, status: str = "finished") -> Run:
        """Ends a running run as ``finished``, ``failed`` or ``killed`` (ending it again the same way changes nothing;
        a run that ended otherwise raises :class:`~berth.Conflict` ``run_ended``). A :class:`~berth.RunSession` does
        this itself; this is for runs logged elsewhere.

        >>> client.finish_run("acme/fraud/k3v7q2mxa4bd", "failed").status
        'failed'
        """
        if status not in END_STATUSES:
            raise ValueError(f"A run ends as {', '.join(END_STATUSES)}, not {status!r}.")
        return Run.from_json(self._http.call_retrying("POST", self._run_path(reference) + "/finish", json_body={"status": status}))

    def delete_run(self, reference: str) -> None:
        """Deletes a run (namespace admins): it is gone from reads and lists.

        >>> client.delete_run("acme/fraud/k3v7q2mxa4bd")
        """
        self._http.call("DELETE", self._run_path(reference))

    def run_series(self, reference: str, key: str, *, points: Optional[int] = None, from_step: Optional[int] = None,
                   to_step: Optional[int] = None) -> MetricSeries:
        """One metric of a run over the steps ``from_step`` … ``to_step`` (default: all), downsampled for a chart: at
        most ``points`` (default 1,000, at most 10,000) min/max buckets of equal step width — every spike stays
        visible — or the points themselves when there are no more than that (``series.is_raw``). ``series.count``
        is the number of points in the range.

        >>> s = client.run_series("acme/fraud/k3v7q2mxa4bd", "loss", points=500)
        >>> s.count, len(s.buckets), s.buckets[0].min
        (1000000, 500, 0.12)
        """
        found = SeriesSet.from_json(self._series_call(
            self._run_path(reference) + "/series", {"key": key, "buckets": points, "from": from_step, "to": to_step}))
        if not found.series:
            raise errors.BerthError("series_missing", f"The server answered no series for {key!r} of {reference}.")
        return found.series[0]

    def run_points(self, reference: str, key: str, *, page_size: int = 10_000) -> Iterator[SeriesPoint]:
        """Every stored point of one metric of a run, in step order (equal steps by time), lazily over keyset pages of
        ``page_size`` (at most 10,000): the export. Points are ``(step, time, value)`` named tuples.

        >>> for step, time, value in client.run_points("acme/fraud/k3v7q2mxa4bd", "loss"):
        ...     print(step, value)
        """
        return self._pages(self._run_path(reference) + "/points", {"key": key}, SeriesPoint.from_json, page_size, series=True)

    def log_run_files(self, reference: "RunLike", path: str, *, prefix: Optional[str] = None, parallelism: int = 4,
                      progress: ProgressOption = None, digest_cache: bool = True,
                      single_request_limit: int = _push.SINGLE_REQUEST_LIMIT,
                      stream_threshold: Optional[int] = _push.STREAM_THRESHOLD) -> RunFiles:
        """Uploads a folder (or one file) as files of a run and returns every file of the run (:class:`~berth.RunFiles`,
        a list that also tells what was uploaded). Paths are relative to the folder (a single file keeps its name),
        under ``prefix`` (e.g. ``"model"``) when given; a path the run has already is replaced.

        The transfer is a push's (the digest cache, ``parallelism`` files at a time, resumable sessions, large files
        streaming while hashed), but the server is asked to attach the files first and only the blobs it answers
        missing are uploaded, so files the model already holds — an unchanged folder logged again, a checkpoint a
        version has — send nothing. A folder without files raises ``ValueError`` before the server is contacted.

        >>> files = client.log_run_files("acme/fraud/k3v7q2mxa4bd", "outputs/", prefix="outputs")
        >>> [f.path for f in files], files.bytes_uploaded
        (['outputs/model.pkl', 'outputs/roc.png'], 0)
        """
        ns, model, _ = parse_run_reference(_run_reference(reference), self.namespace)
        cache = cache_dir()
        return _push.upload_run_files(
            self._http, path, ns, model, self._run_path(reference), prefix=prefix, parallelism=parallelism,
            progress=Progress(progress, f"run files {_run_reference(reference)}"),
            digest_cache=DigestCache(_join(cache, "digests.json")) if digest_cache else None,
            resume=ResumeStore(_join(cache, "uploads.json")),
            single_request_limit=single_request_limit, stream_threshold=stream_threshold)

    def list_run_files(self, reference: "RunLike", *, page_size: Optional[int] = None) -> Iterator[RunFile]:
        """The files of a run, in path order, lazily over keyset pages.

        >>> [(f.path, f.size) for f in client.list_run_files("acme/fraud/k3v7q2mxa4bd")]
        [('model/model.pkl', 48213), ('plots/roc.png', 9120)]
        """
        return self._pages(self._run_path(reference) + "/files", None, RunFile.from_json, page_size or 1000)

    def download_run_file(self, reference: "RunLike", path: str, destination: str) -> str:
        """Downloads one file of a run to ``destination`` (a file path; an existing folder receives the file under its
        own name), verified against its digest (a corrupted download raises :class:`~berth.DigestMismatch` and is not
        kept) and resumed after a broken connection; returns where it was written. The file is replaced atomically.

        >>> client.download_run_file("acme/fraud/k3v7q2mxa4bd", "plots/roc.png", "roc.png")
        'roc.png'
        """
        _pull.check_path(path)
        run_path = self._run_path(reference)
        found = next((f for f in self._pages(run_path + "/files", None, RunFile.from_json, 1000) if f.path == path), None)
        if found is None:
            raise errors.NotFound("file_not_found", f"Run {_run_reference(reference)} has no file '{path}'.", status=404)
        if os.path.isdir(destination):
            destination = os.path.join(destination, path.rsplit("/", 1)[-1])
        folder, name = os.path.split(os.path.abspath(destination))
        os.makedirs(folder, exist_ok=True)
        downloader = _pull.Downloader(self._http, run_path, Connections())
        downloader.download(FileEntry(found.path, found.size, found.digest), _pull.Target(folder), True, lambda n: None,
                            local=name)
        return destination

    def register_run(self, reference: "RunLike", *, version: Optional[str] = None, path: Optional[str] = None,
                     description: Optional[str] = None, metrics: Optional[Mapping[str, float]] = None,
                     params: Optional[Mapping[str, Any]] = None, tags: Optional[Mapping[str, Any]] = None,
                     aliases: Optional[Sequence[str]] = None) -> Version:
        """Registers a run as a new **ready** version of its model from the files it holds, without uploading anything,
        and returns the version: all the run's files, or those under ``path`` (a folder such as ``"model/"``, whose
        prefix is stripped). The version's lineage names the run (and takes its git commit and datasets); its params
        are the run's and its metrics the run's final values (NaN and infinities left out), with ``metrics`` and
        ``params`` added or replacing those of the same name. Quotas, protected aliases and naming rules are a push's.
        No file selected raises :class:`~berth.BadRequest` ``empty_selection``; a run that does not exist,
        :class:`~berth.NotFound` ``run_not_found``. Retried safely (one idempotency key for every attempt).

        >>> v = client.register_run("acme/fraud/k3v7q2mxa4bd", path="model/", version="1.4.0", aliases=["candidate"])
        >>> v.reference, v.lineage.run_id
        ('acme/fraud:8', 'k3v7q2mxa4bd')
        """
        body = _push._declaration(version, description, metrics, params, tags, aliases, None)
        del body["lineage"]
        body["path"] = path
        answer = self._http.call_retrying("POST", self._run_path(reference) + "/register", json_body=body,
                                          headers={"Idempotency-Key": uuid.uuid4().hex})
        return Version.from_json(answer)

    def compare_runs(self, runs: Sequence[str], keys: Sequence[str], *, points: Optional[int] = None,
                     from_step: Optional[int] = None, to_step: Optional[int] = None) -> SeriesSet:
        """Up to 20 runs of one model (their references) on up to 10 metrics, read over one step range cut into the
        same buckets (``points``, default 1,000), so bucket ``i`` covers the same steps in every series; raw points when
        no series has more than that. One :class:`~berth.MetricSeries` per run and key, in the order asked.

        >>> result = client.compare_runs([a.ref, b.ref], ["val_auc"], points=200)
        >>> [(s.run, s.key, s.count) for s in result.series]
        [('k3v7q2mxa4bd', 'val_auc', 1000), ('p2x4m7qa3b2c', 'val_auc', 1000)]
        """
        if not runs or not keys:
            raise ValueError("compare_runs needs at least one run and one metric key.")
        parsed = [parse_run_reference(r, self.namespace) for r in runs]
        models = {(ns, model) for ns, model, _ in parsed}
        if len(models) > 1:
            raise ValueError(f"compare_runs compares runs of one model; these are of {', '.join(sorted(f'{a}/{b}' for a, b in models))}.")
        ns, model = parsed[0][0], parsed[0][1]
        return SeriesSet.from_json(self._series_call(
            f"models/{segment(ns)}/{segment(model)}/runs/compare",
            {"runs": ",".join(r for _, _, r in parsed), "keys": ",".join(keys), "buckets": points, "from": from_step, "to": to_step}))

    # ---- events ------------------------------------------------------------------------------------------------

    def list_events(self, since: int = 0, *, namespace: Optional[str] = None, model: Optional[str] = None,
                    types: Optional[Sequence[str]] = None, limit: Optional[int] = None) -> EventBatch:
        """Events after the cursor ``since`` (polling): pass ``batch.next`` back for the next call; ``batch.head`` is
        the newest event's id.

        >>> batch = client.list_events(0, namespace="acme", types=["stage.changed"])
        """
        d = self._http.call("GET", "events", query={"since": since, "namespace": namespace, "model": model, "type": list(types or []) or None, "limit": limit})
        return EventBatch([Event.from_json(e) for e in d.get("items") or []], int(d.get("next", since)), int(d.get("head", 0)))

    def events(self, since: Optional[int] = None, *, namespace: Optional[str] = None, model: Optional[str] = None,
               types: Optional[Sequence[str]] = None, read_timeout: float = 60.0) -> Iterator[Event]:
        """The live event stream: every event after ``since`` (default: from now on), then each new one as it
        commits, for as long as you iterate. A dropped connection is reopened after the last event received, so no
        event is missed or repeated. Filters: ``namespace``, ``model`` (``acme/fraud``), ``types``.

        >>> for event in client.events(namespace="acme", types=["stage.changed"]):
        ...     print(event.model, event.version, event.after)
        """
        if since is None:
            since = self.list_events(0, limit=1).head
        query: Dict[str, Any] = {"namespace": namespace, "model": model, "type": list(types or []) or None}
        return _events.stream(self._http, int(since), query, read_timeout)


def _join(folder: str, name: str) -> str:
    return os.path.join(folder, name)


def _int_or_negative_zero(text: str) -> Union[int, float]:
    return -0.0 if text == "-0" else int(text)


def _texts(values: Optional[Mapping[str, Any]]) -> Optional[Dict[str, str]]:
    """Params, tags, environment: every value as text (``None`` for none)."""
    if not values:
        return None
    return {str(k): v if isinstance(v, str) else str(v) for k, v in values.items()}


RunLike = Union[str, Run, RunSession]
"""A run as the client's run functions take it: its reference ``namespace/model/id``, a :class:`Run` or a session."""


def _run_reference(run: RunLike) -> str:
    if isinstance(run, (Run, RunSession)):
        return run.reference
    return run


def _with_run(lineage: Optional[Union[Lineage, Mapping[str, Any]]], run: RunLike) -> Lineage:
    """The push's lineage with ``run_id`` set to the run's id (a reference's last part, or a bare id)."""
    run_id = _run_reference(run).strip().rstrip("/").rpartition("/")[2]
    if not run_id:
        raise errors.InvalidReference(f"Invalid run {run!r}: name it as namespace/model/id or by its id.")
    current = lineage if isinstance(lineage, Lineage) or lineage is None else Lineage(**dict(lineage))
    if current is None:
        return Lineage(run_id=run_id)
    if current.run_id not in (None, run_id):
        raise ValueError(f"push was given run {run_id!r} and lineage.run_id {current.run_id!r}: name one run.")
    return dataclasses.replace(current, run_id=run_id)


def _run_lineage(d: Mapping[str, Any]) -> RunLineage:
    from .types import Dataset

    fields = dict(d)
    fields["datasets"] = tuple(x if isinstance(x, Dataset) else Dataset(**x) if isinstance(x, Mapping) else Dataset(str(x))
                               for x in fields.get("datasets") or ())
    return RunLineage(**fields)


def start_run(
    model: Optional[str] = None,
    *,
    name: Optional[str] = None,
    params: Optional[Mapping[str, Any]] = None,
    tags: Optional[Mapping[str, Any]] = None,
    note: Optional[str] = None,
    lineage: Optional[Union[RunLineage, Mapping[str, Any]]] = None,
    environment: Optional[Mapping[str, Any]] = None,
    options: Optional[RunSessionOptions] = None,
    client: Optional[Client] = None,
) -> RunSession:
    """Starts a run of ``model`` and returns its :class:`~berth.RunSession`: :meth:`Client.start_run` on ``client``, by
    default a :class:`Client` with the environment's or the saved login's settings, which the session closes at its end.
    Inside ``berth run exec`` (``BERTH_RUN_ID`` set) it attaches to that run instead (see :meth:`Client.start_run`).

    >>> import berth
    >>> with berth.start_run("acme/fraud", params={"lr": 0.01}) as run:
    ...     for step in range(100):
    ...         run.log({"loss": 1 / (step + 1)}, step=step)
    """
    owned = client is None
    chosen = client if client is not None else Client()
    try:
        session = chosen.start_run(model, name=name, params=params, tags=tags, note=note, lineage=lineage,
                                   environment=environment, options=options)
    except BaseException:
        if owned:
            chosen.close()
        raise
    session._owns_client = owned
    return session
