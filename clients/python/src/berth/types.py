"""The records the client returns: versions, models, aliases, events … read from the server's JSON.

Each record keeps the JSON object it was read from in ``raw``, so fields a newer server adds are not lost.
Times are timezone-aware :class:`datetime.datetime` values (UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

__all__ = [
    "FileEntry",
    "Dataset",
    "Lineage",
    "DeploymentState",
    "Version",
    "Model",
    "Namespace",
    "Alias",
    "Review",
    "Request",
    "TransitionResult",
    "HistoryEntry",
    "Holders",
    "Deployment",
    "Event",
    "EventBatch",
    "WhoAmI",
    "PushResult",
    "PullResult",
    "PullWarning",
    "RunLineage",
    "MetricSummary",
    "Run",
    "RunFile",
    "RunFiles",
    "SeriesPoint",
    "MetricBucket",
    "MetricSeries",
    "SeriesSet",
    "parse_time",
]

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 time as the server writes it (up to 7 fractional digits) → aware ``datetime``; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    m = _TIME.match(str(value))
    if not m:
        raise ValueError(f"Not an ISO 8601 time: {value!r}")
    date, hh, mm, ss, fraction, zone = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    year, month, day = (int(x) for x in date.split("-"))
    tz = timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime(year, month, day, int(hh), int(mm), int(ss or 0), micro, tzinfo=tz).astimezone(timezone.utc)


def _dict(value: Any) -> Dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> List[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


@dataclass(frozen=True)
class FileEntry:
    """One file of a version: its path (``/``-separated), size in bytes, ``sha256:`` digest and declared media type."""

    path: str
    size: int
    digest: str
    media_type: Optional[str] = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "FileEntry":
        """Reads a file entry from the server's JSON."""
        return cls(d["path"], int(d["size"]), d["digest"], d.get("mediaType"))


@dataclass(frozen=True)
class Dataset:
    """A dataset a version was trained on: its URI and, optionally, its digest."""

    uri: str
    digest: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        """The JSON the server takes."""
        return {"uri": self.uri, "digest": self.digest}


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: the run, the git repository and commit, the datasets and parent versions."""

    run_id: Optional[str] = None
    git_repository: Optional[str] = None
    git_commit: Optional[str] = None
    datasets: Sequence[Dataset] = ()
    parents: Sequence[str] = ()

    @classmethod
    def from_json(cls, d: Any) -> "Lineage":
        """Reads lineage from the server's JSON."""
        d = _dict(d)
        return cls(
            d.get("runId"),
            d.get("gitRepository"),
            d.get("gitCommit"),
            tuple(Dataset(x.get("uri", ""), x.get("digest")) for x in _list(d.get("datasets"))),
            tuple(_list(d.get("parents"))),
        )

    def to_json(self) -> Dict[str, Any]:
        """The JSON the server takes."""
        return {
            "runId": self.run_id,
            "gitRepository": self.git_repository,
            "gitCommit": self.git_commit,
            "datasets": [x.to_json() for x in self.datasets] or None,
            "parents": list(self.parents) or None,
        }


@dataclass(frozen=True)
class DeploymentState:
    """Where a version runs now: an environment, its endpoint, the status and since when."""

    environment: str
    endpoint: Optional[str]
    status: str
    since: Optional[datetime]


@dataclass(frozen=True)
class Version:
    """A version of a model. ``files`` is filled when asked for (``get_version(..., files=True)``, pulls)."""

    namespace: str
    model: str
    number: int
    semver: Optional[str]
    manifest_digest: str
    state: str
    stage: Optional[str]
    stage_changed_at: Optional[datetime]
    description: Optional[str]
    metrics: Dict[str, float]
    params: Dict[str, str]
    tags: Dict[str, str]
    aliases: List[str]
    lineage: Lineage
    total_size: int
    file_count: int
    created_at: Optional[datetime]
    created_by: str
    ready_at: Optional[datetime]
    revision: int
    files: Optional[List[FileEntry]] = None
    deployments: Optional[List[DeploymentState]] = None
    same_content: Optional[List[int]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def reference(self) -> str:
        """``namespace/model:number``."""
        return f"{self.namespace}/{self.model}:{self.number}"

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Version":
        """Reads a version from the server's JSON."""
        files = d.get("files")
        deployments = d.get("deployments")
        return cls(
            namespace=d["namespace"],
            model=d["model"],
            number=int(d["number"]),
            semver=d.get("semVer"),
            manifest_digest=d.get("manifestDigest", ""),
            state=d.get("state", ""),
            stage=d.get("stage"),
            stage_changed_at=parse_time(d.get("stageChangedAt")),
            description=d.get("description"),
            metrics={k: float(v) for k, v in _dict(d.get("metrics")).items()},
            params=_dict(d.get("params")),
            tags=_dict(d.get("tags")),
            aliases=_list(d.get("aliases")),
            lineage=Lineage.from_json(d.get("lineage")),
            total_size=int(d.get("totalSize", 0)),
            file_count=int(d.get("fileCount", 0)),
            created_at=parse_time(d.get("createdAt")),
            created_by=d.get("createdBy", ""),
            ready_at=parse_time(d.get("readyAt")),
            revision=int(d.get("revision", 0)),
            files=[FileEntry.from_json(f) for f in files] if isinstance(files, list) else None,
            deployments=[
                DeploymentState(x.get("environment", ""), x.get("endpoint"), x.get("status", ""), parse_time(x.get("since")))
                for x in deployments
            ] if isinstance(deployments, list) else None,
            same_content=_list(d.get("sameContent")) if d.get("sameContent") is not None else None,
            raw=dict(d),
        )


@dataclass(frozen=True)
class Model:
    """A registered model with its aliases (name → version number) and stage holders (stage → version number)."""

    namespace: str
    name: str
    description: Optional[str]
    tags: Dict[str, str]
    created_at: Optional[datetime]
    updated_at: Optional[datetime]
    version_count: int
    latest_version: Optional[int]
    aliases: Dict[str, int]
    stages: Dict[str, int]
    revision: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def full_name(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Model":
        """Reads a model from the server's JSON."""
        return cls(
            d["namespace"], d["name"], d.get("description"), _dict(d.get("tags")), parse_time(d.get("createdAt")),
            parse_time(d.get("updatedAt")), int(d.get("versionCount", 0)), d.get("latestVersion"),
            _dict(d.get("aliases")), _dict(d.get("stages")), int(d.get("revision", 0)), dict(d),
        )


@dataclass(frozen=True)
class Namespace:
    """A namespace with its stages, usage and quotas (``None``: unlimited)."""

    name: str
    description: Optional[str]
    created_at: Optional[datetime]
    model_count: int
    stages: List[str]
    used_bytes: int
    used_versions: int
    max_bytes: Optional[int]
    max_versions: Optional[int]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Namespace":
        """Reads a namespace from the server's JSON."""
        return cls(
            d["name"], d.get("description"), parse_time(d.get("createdAt")), int(d.get("modelCount", 0)),
            _list(d.get("stages")), int(d.get("usedBytes", 0)), int(d.get("usedVersions", 0)), d.get("maxBytes"),
            d.get("maxVersions"), dict(d),
        )


@dataclass(frozen=True)
class Alias:
    """An alias: its name, the version number it names, when and by whom it was last moved."""

    name: str
    version: int
    updated_at: Optional[datetime]
    updated_by: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Alias":
        """Reads an alias from the server's JSON."""
        return cls(d["name"], int(d["version"]), parse_time(d.get("updatedAt")), d.get("updatedBy", ""))


@dataclass(frozen=True)
class Review:
    """One approval or rejection of a transition request."""

    reviewer: str
    decision: str
    comment: Optional[str]
    at: Optional[datetime]


@dataclass(frozen=True)
class Request:
    """A transition request: moving a version into a protected stage (``kind='stage'``) or a protected alias onto it."""

    id: int
    namespace: str
    model: str
    version: int
    kind: str
    stage: Optional[str]
    alias: Optional[str]
    state: str
    required_approvals: int
    approvals: int
    requester: str
    comment: Optional[str]
    created_at: Optional[datetime]
    closed_at: Optional[datetime]
    closed_by: Optional[str]
    close_reason: Optional[str]
    gate: Optional[Dict[str, Any]]
    reviews: List[Review]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Request":
        """Reads a request from the server's JSON."""
        return cls(
            int(d["id"]), d["namespace"], d["model"], int(d["version"]), d.get("kind", ""), d.get("stage"), d.get("alias"),
            d.get("state", ""), int(d.get("requiredApprovals", 0)), int(d.get("approvals", 0)), d.get("requester", ""),
            d.get("comment"), parse_time(d.get("createdAt")), parse_time(d.get("closedAt")), d.get("closedBy"),
            d.get("closeReason"), d.get("gate"),
            [Review(r.get("reviewer", ""), r.get("decision", ""), r.get("comment"), parse_time(r.get("at"))) for r in _list(d.get("reviews"))],
            dict(d),
        )


@dataclass(frozen=True)
class TransitionResult:
    """What a stage change or alias move did: ``outcome`` is ``applied``, ``unchanged`` or ``requested``
    (the target is protected: :attr:`request` waits for approvals)."""

    outcome: str
    version: Version
    alias: Optional[Alias] = None
    request: Optional[Request] = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "TransitionResult":
        """Reads a transition result from the server's JSON."""
        return cls(
            d["outcome"], Version.from_json(d["version"]), Alias.from_json(d["alias"]) if d.get("alias") else None,
            Request.from_json(d["request"]) if d.get("request") else None,
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of a model's history: a stage change, alias move, deletion or step of a request (``kind``)."""

    id: int
    kind: str
    alias: Optional[str]
    version: Optional[int]
    previous_version: Optional[int]
    from_stage: Optional[str]
    to_stage: Optional[str]
    actor: str
    at: Optional[datetime]
    comment: Optional[str]
    request_id: Optional[int] = None
    event: Optional[str] = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "HistoryEntry":
        """Reads a history entry from the server's JSON."""
        return cls(
            int(d["id"]), d.get("kind", ""), d.get("alias"), d.get("version"), d.get("previousVersion"), d.get("fromStage"),
            d.get("toStage"), d.get("actor", ""), parse_time(d.get("at")), d.get("comment"), d.get("requestId"), d.get("event"),
        )


@dataclass(frozen=True)
class Holders:
    """Which versions held a stage (or which version an alias named) at a moment: the answer of ``history(at=…)``."""

    namespace: str
    model: str
    at: Optional[datetime]
    stage: Optional[str]
    alias: Optional[str]
    versions: List[int]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Holders":
        """Reads holders from the server's JSON."""
        return cls(d["namespace"], d["model"], parse_time(d.get("at")), d.get("stage"), d.get("alias"), _list(d.get("versions")))


@dataclass(frozen=True)
class Deployment:
    """A deployment record: what a deployment system reported about a version in an environment."""

    id: int
    namespace: str
    model: str
    version: int
    environment: str
    endpoint: Optional[str]
    status: str
    at: Optional[datetime]
    actor: str
    comment: Optional[str]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Deployment":
        """Reads a deployment record from the server's JSON."""
        return cls(
            int(d["id"]), d["namespace"], d["model"], int(d["version"]), d["environment"], d.get("endpoint"), d["status"],
            parse_time(d.get("at")), d.get("actor", ""), d.get("comment"),
        )


@dataclass(frozen=True)
class Event:
    """One event (a change that committed), in global order by ``id``; see docs/events.md for the types."""

    id: int
    type: str
    time: Optional[datetime]
    actor: str
    namespace: Optional[str]
    model: Optional[str]
    version: Optional[int]
    before: Optional[Dict[str, Any]]
    after: Optional[Dict[str, Any]]
    data: Optional[Dict[str, Any]]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Event":
        """Reads an event from the server's JSON."""
        return cls(
            int(d["id"]), d["type"], parse_time(d.get("time")), d.get("actor", ""), d.get("namespace"), d.get("model"),
            d.get("version"), d.get("before"), d.get("after"), d.get("data"),
        )


@dataclass(frozen=True)
class EventBatch:
    """Events after a cursor: pass :attr:`next` back as ``since``; :attr:`head` is the newest event's id."""

    items: List[Event]
    next: int
    head: int


@dataclass(frozen=True)
class WhoAmI:
    """The caller as the server sees it: the user (``name``, ``isAdmin`` …) and the token (``None`` when anonymous)."""

    user: Dict[str, Any]
    token: Optional[Dict[str, Any]]
    anonymous: bool

    @property
    def name(self) -> str:
        """The user's name."""
        return str(self.user.get("name", ""))


@dataclass(frozen=True)
class PushResult:
    """What a push did.

    ``version`` is the ready version. ``unchanged`` is true when no version was created because a ready version of
    the model already had exactly this content (then ``version`` is that one, the aliases were moved onto it and the
    other metadata was not used). ``bytes_uploaded`` counts what was sent now; the server had the rest, or
    ``bytes_resumed`` of it came from an interrupted earlier upload. ``files_hashed`` is how many files had to be
    hashed (the others' digests came from the digest cache).
    """

    version: Version
    unchanged: bool
    same_content_as: Optional[Version]
    alias_moves: List[TransitionResult]
    files_total: int
    bytes_total: int
    files_uploaded: int
    bytes_uploaded: int
    bytes_resumed: int
    files_hashed: int
    elapsed: float


@dataclass(frozen=True)
class PullWarning:
    """Something a pull did that deserves attention: ``risky_path`` or ``partial_discarded``."""

    code: str
    path: str
    message: str


@dataclass(frozen=True)
class PullResult:
    """What a pull did: the version (pinned by number), the folder, how many files were downloaded or already there."""

    version: Version
    path: str
    files_downloaded: int
    files_unchanged: int
    bytes_downloaded: int
    bytes_resumed: int
    warnings: List[PullWarning]
    elapsed: float


# ---- runs ----------------------------------------------------------------------------------------------------


def number(value: Any) -> float:
    """A metric value as the server writes it (a JSON number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``) → float."""
    return float(value)


def _optional_number(value: Any) -> Optional[float]:
    return None if value is None else float(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def from_milliseconds(ms: int) -> datetime:
    """Milliseconds since the Unix epoch (how the server keeps a point's time) → aware ``datetime`` in UTC."""
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True)
class RunLineage:
    """Where a run came from: the git repository and commit (and whether the tree had uncommitted changes), the
    datasets it trained on, and the run it continues (``parent_run``, a run id)."""

    git_repository: Optional[str] = None
    git_commit: Optional[str] = None
    git_dirty: Optional[bool] = None
    datasets: Sequence[Dataset] = ()
    parent_run: Optional[str] = None

    @classmethod
    def from_json(cls, d: Any) -> "RunLineage":
        """Reads run lineage from the server's JSON."""
        d = _dict(d)
        return cls(
            d.get("gitRepository"), d.get("gitCommit"), d.get("gitDirty"),
            tuple(Dataset(x.get("uri", ""), x.get("digest")) for x in _list(d.get("datasets"))), d.get("parentRun"),
        )

    def to_json(self) -> Dict[str, Any]:
        """The JSON the server takes."""
        return {
            "gitRepository": self.git_repository,
            "gitCommit": self.git_commit,
            "gitDirty": self.git_dirty,
            "datasets": [x.to_json() for x in self.datasets] or None,
            "parentRun": self.parent_run,
        }


@dataclass(frozen=True)
class MetricSummary:
    """The summary of one metric series of a run: how many points, the highest step and the value there, and the
    least and greatest values that are not NaN (``None`` when every value is NaN). Values may be NaN or infinite."""

    count: int
    last_step: int
    last: float
    min: Optional[float]
    max: Optional[float]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "MetricSummary":
        """Reads a metric summary from the server's JSON."""
        return cls(int(d.get("count", 0)), int(d.get("lastStep", 0)), number(d.get("last", "NaN")),
                   _optional_number(d.get("min")), _optional_number(d.get("max")))


@dataclass(frozen=True)
class Run:
    """A training run of a model: params, tags, lineage, status, times, and the summary of each metric series.

    ``status`` is ``running``, ``finished``, ``failed``, ``killed`` or ``crashed`` (the server's verdict on a run that
    sent no heartbeat for a while). :attr:`reference` (``namespace/model/id``) names it everywhere.
    """

    id: str
    namespace: str
    model: str
    name: Optional[str]
    status: str
    started_at: Optional[datetime]
    ended_at: Optional[datetime]
    heartbeat_at: Optional[datetime]
    created_by: str
    params: Dict[str, str]
    tags: Dict[str, str]
    metrics: Dict[str, MetricSummary]
    note: Optional[str]
    lineage: RunLineage
    environment: Optional[Dict[str, str]]
    revision: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def reference(self) -> str:
        """``namespace/model/id``, as ``berth run start`` prints it."""
        return f"{self.namespace}/{self.model}/{self.id}"

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Run":
        """Reads a run from the server's JSON."""
        environment = d.get("environment")
        return cls(
            id=d["id"],
            namespace=d["namespace"],
            model=d["model"],
            name=d.get("name"),
            status=d.get("status", ""),
            started_at=parse_time(d.get("startedAt")),
            ended_at=parse_time(d.get("endedAt")),
            heartbeat_at=parse_time(d.get("heartbeatAt")),
            created_by=d.get("createdBy", ""),
            params=_dict(d.get("params")),
            tags=_dict(d.get("tags")),
            metrics={k: MetricSummary.from_json(v) for k, v in _dict(d.get("metrics")).items()},
            note=d.get("note"),
            lineage=RunLineage.from_json(d.get("lineage")),
            environment=_dict(environment) if environment is not None else None,
            revision=int(d.get("revision", 0)),
            raw=dict(d),
        )


@dataclass(frozen=True)
class RunFile:
    """One file of a run: its path, size in bytes, ``sha256:`` digest, media type and when it was attached."""

    path: str
    size: int
    digest: str
    media_type: Optional[str]
    time: Optional[datetime]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "RunFile":
        """Reads a run file from the server's JSON."""
        return cls(d["path"], int(d["size"]), d["digest"], d.get("mediaType"), parse_time(d.get("time")))


class RunFiles(List[RunFile]):
    """Every file of a run, in path order, as :meth:`RunSession.log_files` left them — a list of :class:`RunFile` —
    with what the upload did: ``files_total`` and ``bytes_total`` of the local folder, ``files_uploaded`` and
    ``bytes_uploaded`` (the server lacked only those; ``bytes_resumed`` more came from an interrupted earlier upload),
    ``files_hashed`` (the others' digests came from the digest cache) and ``elapsed`` seconds."""

    def __init__(self, files: Sequence[RunFile], files_total: int = 0, bytes_total: int = 0, files_uploaded: int = 0,
                 bytes_uploaded: int = 0, bytes_resumed: int = 0, files_hashed: int = 0, elapsed: float = 0.0) -> None:
        super().__init__(files)
        self.files_total = files_total
        self.bytes_total = bytes_total
        self.files_uploaded = files_uploaded
        self.bytes_uploaded = bytes_uploaded
        self.bytes_resumed = bytes_resumed
        self.files_hashed = files_hashed
        self.elapsed = elapsed

    def __repr__(self) -> str:
        return (f"RunFiles({list.__repr__(self)}, files_uploaded={self.files_uploaded}, "
                f"bytes_uploaded={self.bytes_uploaded})")


class SeriesPoint(NamedTuple):
    """One stored point of a metric series: its step, its time (aware ``datetime``, UTC, millisecond precision) and
    its value (NaN and ±infinity included). A named tuple, so ``for step, time, value in …`` works and a million of
    them stay cheap."""

    step: int
    time: datetime
    value: float

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "SeriesPoint":
        """Reads a point from the server's JSON."""
        return cls(int(d["step"]), from_milliseconds(int(d["time"])), float(d["value"]))


@dataclass(frozen=True)
class MetricBucket:
    """A bucket of a downsampled series: the first and last step of its points, how many there are, their least and
    greatest value that is not NaN (``None`` when none), and its last value when the server filled the bucket point by
    point (``None`` when it was filled from stored summaries)."""

    first_step: int
    last_step: int
    count: int
    min: Optional[float]
    max: Optional[float]
    last: Optional[float]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "MetricBucket":
        """Reads a bucket from the server's JSON."""
        return cls(int(d["firstStep"]), int(d["lastStep"]), int(d["count"]), _optional_number(d.get("min")),
                   _optional_number(d.get("max")), _optional_number(d.get("last")))


@dataclass(frozen=True)
class MetricSeries:
    """One metric of one run over the steps ``from_step`` … ``to_step``: its ``count`` of points there, and either the
    points themselves (:attr:`points`, when there are no more than the buckets asked for) or min/max buckets of
    ``bucket_width`` steps (:attr:`buckets`; empty buckets are left out). :attr:`is_raw` says which."""

    run: str
    key: str
    count: int
    points: Optional[List[SeriesPoint]]
    buckets: Optional[List[MetricBucket]]
    from_step: Optional[int] = None
    to_step: Optional[int] = None
    bucket_width: Optional[int] = None

    @property
    def is_raw(self) -> bool:
        """Whether the series holds its points (not buckets)."""
        return self.points is not None

    @classmethod
    def from_json(cls, d: Mapping[str, Any], from_step: Optional[int] = None, to_step: Optional[int] = None,
                  bucket_width: Optional[int] = None) -> "MetricSeries":
        """Reads a series from the server's JSON (the range and bucket width come from the set it is part of)."""
        points = d.get("points")
        buckets = d.get("buckets")
        return cls(
            d.get("run", ""), d.get("key", ""), int(d.get("count", 0)),
            [SeriesPoint.from_json(p) for p in points] if isinstance(points, list) else None,
            [MetricBucket.from_json(b) for b in buckets] if isinstance(buckets, list) else None,
            from_step, to_step, bucket_width,
        )


@dataclass(frozen=True)
class SeriesSet:
    """Series read over one step range cut into the same buckets (``bucket_width`` steps each, ``None`` when the points
    are returned), so bucket ``i`` of every series covers the same steps: what :meth:`~berth.Client.compare_runs` returns."""

    from_step: Optional[int]
    to_step: Optional[int]
    bucket_width: Optional[int]
    series: List[MetricSeries]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "SeriesSet":
        """Reads a set of series from the server's JSON."""
        lo, hi, width = d.get("from"), d.get("to"), d.get("bucketWidth")
        return cls(lo, hi, width, [MetricSeries.from_json(s, lo, hi, width) for s in _list(d.get("series"))])
