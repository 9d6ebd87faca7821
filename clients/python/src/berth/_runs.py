"""Run logging: a :class:`RunSession` buffers metric points in memory and a background thread sends them in batches.

The training loop only appends a tuple to a bounded deque (:meth:`RunSession.log`); everything slow happens on the
session's sender thread: forming batches, giving each its id, writing its JSON, sending it, retrying it with the same
id (the server stores a batch id once, so a retry after a lost answer stores nothing twice), heartbeats. The design
follows the C# SDK's ``RunSession`` (docs/runs.md, *Clients*).
"""

from __future__ import annotations

import atexit
import collections
import http.client
import logging
import operator
import os
import random
import re
import sys
import threading
import time as _time
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import errors
from ._http import Connections, segment
from .types import Run

if TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from .client import Client
    from .types import RunFile, RunFiles, Version

__all__ = ["RunSession", "RunSessionOptions", "check_metric_key", "RUN_ID_VARIABLE", "END_STATUSES"]

RUN_ID_VARIABLE = "BERTH_RUN_ID"
"""The environment variable ``berth run exec`` sets to the reference (``namespace/model/id``) of the run it started."""

END_STATUSES = ("finished", "failed", "killed")
"""How a client may end a run (``crashed`` is the server's verdict on a run that stopped sending heartbeats)."""

_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*\Z")
_KEY_MAX = 128

_log = logging.getLogger("berth")

# A buffered point: (key, step, value, time in milliseconds since the epoch), the batch JSON's four fields in order,
# so that the sender formats each tuple as it is. Tuples are the cheapest thing to append.
_Point = Tuple[str, int, float, int]


def check_metric_key(key: str) -> None:
    """Raises ``ValueError`` unless ``key`` is a metric name the server takes: 1–128 letters, digits, ``_``, ``.``,
    ``-`` or ``/``, not starting with a punctuation character other than ``_``."""
    if not isinstance(key, str) or not 1 <= len(key) <= _KEY_MAX or not _KEY.match(key):
        raise ValueError(
            f"Invalid metric name {key!r}: use 1-{_KEY_MAX} letters, digits, '_', '.', '-' or '/', "
            "not starting with a punctuation character.")


@dataclass(frozen=True)
class RunSessionOptions:
    """How a :class:`RunSession` buffers and sends metric points (the defaults suit a training loop; the buffering
    and retry ones are the C# SDK's ``RunSessionOptions``).

    Attributes:
        flush_interval: seconds between sends of whatever is buffered (sooner once ``flush_points`` wait).
        in_flight_batches: how many batches may be on their way at once; with 2, one sender thread writes the next
            batch's JSON while the other's request waits for the server.
        flush_points: send as soon as this many points wait.
        batch_points: the most points in one batch. The server refuses larger ones (``Runs:MaxBatchPoints``,
            10,000 by default; ``Runs:MaxBatchBytes``, 4 MiB, which 10,000 points of the longest keys stay under). A
            server configured lower answers ``batch_too_large``; the session then halves the batch and keeps going.
        max_buffered_points: the most points held in memory, waiting or being sent (about 170 bytes each). When the
            server has been unreachable long enough to fill it, new points are dropped — :meth:`RunSession.log` never
            blocks and memory never grows — and counted in :attr:`RunSession.dropped_points`.
        retry_delay: seconds before the first retry of a batch that failed for a reason that may pass (no connection,
            a timeout, 408, 429, 5xx); each next retry waits twice as long, up to ``max_retry_delay`` (randomised by
            ±25 %; a 429's ``Retry-After`` is honoured). Retries go on, without limit, while the session is open.
        max_retry_delay: the longest wait between retries.
        heartbeat_interval: seconds without contact after which the session tells the server the run is alive (every
            stored batch counts as one too). The server marks a run ``crashed`` after ``Runs:HeartbeatTimeout``
            (10 minutes by default) without either.
        flush_timeout: how long closing the session (the end of a ``with`` block, :meth:`RunSession.finish`) waits
            for the buffered points to reach the server before it ends the run anyway; points still unsent then are
            counted in :attr:`RunSession.unsent_points` and a warning is logged.
    """

    flush_interval: float = 1.0
    in_flight_batches: int = 2
    flush_points: int = 5_000
    batch_points: int = 10_000
    max_buffered_points: int = 1_000_000
    retry_delay: float = 0.25
    max_retry_delay: float = 30.0
    heartbeat_interval: float = 60.0
    flush_timeout: float = 120.0

    def __post_init__(self) -> None:
        for name in ("in_flight_batches", "flush_points", "batch_points", "max_buffered_points"):
            if getattr(self, name) < 1:
                raise ValueError(f"RunSessionOptions.{name} must be at least 1.")
        for name in ("flush_interval", "retry_delay", "max_retry_delay", "heartbeat_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"RunSessionOptions.{name} must be more than 0 seconds.")
        if self.flush_timeout < 0:
            raise ValueError("RunSessionOptions.flush_timeout must not be negative.")


class RunSession:
    """A run being logged into: what ``berth.start_run(...)`` and :meth:`Client.start_run` return.

    :meth:`log` and :meth:`log_metric` only append to a bounded in-memory buffer and return (about a microsecond);
    a background thread sends the points in batches (see :class:`RunSessionOptions`). Use it as a context manager::

        with berth.start_run("acme/fraud", params={"lr": 0.01}) as run:
            for step in range(1000):
                run.log({"loss": loss, "acc": acc}, step=step)

    Leaving the block sends what is left (waiting up to ``flush_timeout``) and ends the run: ``finished``, or
    ``failed`` when an exception leaves the block (``killed`` for ``KeyboardInterrupt``), which is then re-raised. A
    session attached to a run someone else started (``berth run exec``, :meth:`Client.attach_run`) sends what is left
    but does not end the run. A session never closed (no ``with``, no :meth:`finish`) is closed when the interpreter
    exits: ``finished``, or ``failed``/``killed`` when the program ended with an uncaught exception.

    Counters: :attr:`sent_points`, :attr:`pending_points`, :attr:`dropped_points` (buffer full), :attr:`refused_points`
    and :attr:`refused_batches` (refused for good by the server: the run ended, a bad key …), :attr:`unsent_points`
    (still buffered when the session closed) and :attr:`last_error`.
    """

    def __init__(self, client: "Client", run: Run, *, finish_on_exit: bool = True, owns_client: bool = False,
                 options: Optional[RunSessionOptions] = None) -> None:
        self._client = client
        self._http = client._http
        self._options = options or RunSessionOptions()
        self._run = run
        self._final: Optional[Run] = None
        self._path = f"models/{segment(run.namespace)}/{segment(run.model)}/runs/{segment(run.id)}"
        self._finish_on_exit = finish_on_exit
        self._owns_client = owns_client

        # Shared with log(): the buffer, the next step of each key, the counters log() writes.
        self._queue: Deque[_Point] = collections.deque()
        self._lock = threading.Lock()
        self._next_step: Dict[str, int] = {key: summary.last_step + 1 for key, summary in run.metrics.items()}
        self._max_buffered = self._options.max_buffered_points
        self._flush_points = self._options.flush_points
        self._accepted = 0
        self._dropped = 0
        self._in_flight = 0  # points taken from the queue and not settled yet (counted against max_buffered_points)
        self._closed = False
        self._warned_drop = False

        # The sender's state.
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._settled = threading.Condition(threading.Lock())
        self._settled_points = 0
        self._sent = 0
        self._refused_points = 0
        self._refused_batches = 0
        self._duplicate_batches = 0
        self._unsent = 0
        self._taken = 0  # points the sender has taken from the queue
        self._flush_upto = 0  # flush() asked for every point up to this count to be sent now
        self._closing = False
        self._batch_points = self._options.batch_points
        self._take_lock = threading.Lock()
        self._split: List[List[_Point]] = []  # halves of a batch the server found too large, sent before the buffer
        self._last_contact = _time.monotonic()
        self._connections = Connections()
        self.last_error: Optional[BaseException] = None
        """The latest error of a send or heartbeat (``None`` after a success): a retried failure, or a refusal."""

        self._senders = [threading.Thread(target=self._send_loop, args=(i,), name=f"berth-run-{run.id}-{i}", daemon=True)
                         for i in range(self._options.in_flight_batches)]
        for sender in self._senders:
            sender.start()
        _open_sessions.add(self)

    # ---- identity ----------------------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The run's id (12 characters, e.g. ``k3v7q2mxa4bd``)."""
        return self._run.id

    @property
    def ref(self) -> str:
        """The run's reference ``namespace/model/id``: what :meth:`Client.get_run` and ``berth run show`` take."""
        return self._run.reference

    @property
    def reference(self) -> str:
        """The same as :attr:`ref`."""
        return self._run.reference

    @property
    def namespace(self) -> str:
        """The namespace of the run's model."""
        return self._run.namespace

    @property
    def model(self) -> str:
        """The run's model (without the namespace)."""
        return self._run.model

    @property
    def info(self) -> Run:
        """The run as it was when the session started (or attached), or as the last :meth:`set_tags`,
        :meth:`set_note` or :meth:`set_name` left it."""
        return self._run

    @property
    def final(self) -> Optional[Run]:
        """The run as it ended, once the session ended it (``None`` before, and for attached sessions)."""
        return self._final

    @property
    def attached(self) -> bool:
        """Whether the session logs into a run it does not end (``berth run exec``, :meth:`Client.attach_run`)."""
        return not self._finish_on_exit

    @property
    def closed(self) -> bool:
        """Whether the session was closed (by the end of the ``with`` block, :meth:`finish` or :meth:`close`)."""
        return self._closed

    # ---- counters ------------------------------------------------------------------------------------------------

    @property
    def sent_points(self) -> int:
        """Points the server has acknowledged (a batch it had stored before, after a lost answer, counts once)."""
        return self._sent

    @property
    def pending_points(self) -> int:
        """Points logged and not settled yet: waiting in the buffer or being sent."""
        return self._accepted - self._settled_points

    @property
    def dropped_points(self) -> int:
        """Points :meth:`log` dropped because ``max_buffered_points`` were waiting (or because the session was closed)."""
        return self._dropped

    @property
    def refused_points(self) -> int:
        """Points of the batches the server refused for good (the run ended, a bad key, no permission …)."""
        return self._refused_points

    @property
    def refused_batches(self) -> int:
        """How many batches the server refused for good; :attr:`last_error` holds the latest refusal."""
        return self._refused_batches

    @property
    def duplicate_batches(self) -> int:
        """Batches the server answered as already stored: retries after an answer was lost, stored once."""
        return self._duplicate_batches

    @property
    def unsent_points(self) -> int:
        """Points still unsent when the session closed, because ``flush_timeout`` passed first."""
        return self._unsent

    # ---- logging -------------------------------------------------------------------------------------------------

    def log(self, metrics: Mapping[str, float], step: Optional[int] = None, *, time: Union[None, float, datetime] = None) -> None:
        """Buffers one point per metric, e.g. ``run.log({"loss": 0.31, "acc": 0.88}, step=epoch)``, and returns at once.

        Values are numbers (anything ``float()`` takes: ints, numpy scalars …; NaN and ±infinity are kept as they
        are). ``step`` is the x of the points; left out, each metric takes one past its own last step (0 for a new
        one), as ``berth run log`` does. ``time`` is a ``datetime`` or seconds since the epoch (default: now). A metric
        name the server would refuse raises ``ValueError`` and a value that is not a number raises ``TypeError`` or
        ``ValueError``, before anything is buffered. When the buffer is full the points are dropped and counted
        (:attr:`dropped_points`): this never blocks.
        """
        t = _time.time_ns() // 1_000_000 if time is None else _milliseconds(time)
        pairs = [(key, float(value)) for key, value in metrics.items()]
        fixed = None if step is None else operator.index(step)
        with self._lock:
            next_step = self._next_step
            for key, _ in pairs:
                if key not in next_step:
                    check_metric_key(key)
            if self._closed:
                self._drop_after_close(len(pairs))
                return
            queue = self._queue
            room = self._max_buffered - len(queue) - self._in_flight
            for key, value in pairs:
                n = next_step.get(key, 0)
                s = n if fixed is None else fixed
                if s >= n:
                    next_step[key] = s + 1
                if room > 0:
                    queue.append((key, s, value, t))
                    room -= 1
                    self._accepted += 1
                else:
                    self._drop_full()
            if len(queue) >= self._flush_points and not self._wake.is_set():
                self._wake.set()

    def log_metric(self, key: str, value: float, step: Optional[int] = None, time: Union[None, float, datetime] = None) -> None:
        """Buffers one point of one metric and returns at once; the same rules as :meth:`log`.

        >>> run.log_metric("val_auc", 0.931, step=10)
        """
        t = _time.time_ns() // 1_000_000 if time is None else _milliseconds(time)
        v = float(value)
        fixed = None if step is None else operator.index(step)
        with self._lock:
            next_step = self._next_step
            n = next_step.get(key)
            if n is None:
                check_metric_key(key)
                n = 0
            if self._closed:
                self._drop_after_close(1)
                return
            s = n if fixed is None else fixed
            if s >= n:
                next_step[key] = s + 1
            queue = self._queue
            if len(queue) + self._in_flight < self._max_buffered:
                queue.append((key, s, v, t))
                self._accepted += 1
            else:
                self._drop_full()
            if len(queue) >= self._flush_points and not self._wake.is_set():
                self._wake.set()

    def _drop_full(self) -> None:
        self._dropped += 1
        if not self._warned_drop:
            self._warned_drop = True
            _log.warning("Run %s: %d points wait to be sent (max_buffered_points); new points are dropped and counted "
                         "in dropped_points until the server takes some (last error: %s).",
                         self.ref, self._max_buffered, self.last_error)

    def _drop_after_close(self, count: int) -> None:
        self._dropped += count
        if not self._warned_drop:
            self._warned_drop = True
            _log.warning("Run %s: points logged after the session closed are dropped (counted in dropped_points).", self.ref)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends what is buffered now and waits until the server has settled every point logged so far (stored, or
        refused for good); ``True`` when it has, ``False`` when ``timeout`` seconds passed first (``None``: no limit)."""
        with self._lock:
            target = self._accepted
        deadline = None if timeout is None else _time.monotonic() + timeout
        self._flush_upto = max(self._flush_upto, target)
        self._wake.set()
        with self._settled:
            while self._settled_points < target:
                if not any(sender.is_alive() for sender in self._senders):
                    return False
                left = 0.5 if deadline is None else min(0.5, deadline - _time.monotonic())
                if left <= 0:
                    return False
                self._settled.wait(left)
        return True

    # ---- files and registering ------------------------------------------------------------------------------------

    def log_files(self, path: str, prefix: Optional[str] = None, **transfer: Any) -> "RunFiles":
        """Uploads a folder (or one file) as files of the run — checkpoints, plots, the model — and returns every file
        of the run (:class:`~berth.RunFiles`, a list of :class:`~berth.RunFile` that also tells what was uploaded).
        Paths are relative to the folder (a single file keeps its name), under ``prefix`` when given
        (``run.log_files("model.pkl", prefix="model")`` makes ``model/model.pkl``); a path the run has is replaced.

        Only the bytes the server lacks are sent, with a push's transfer code (digest cache, parallel, resumable), so
        logging an unchanged folder again uploads nothing. ``transfer`` takes :meth:`Client.log_run_files`'s
        ``parallelism``, ``progress``, ``digest_cache``, ``single_request_limit`` and ``stream_threshold``.

        >>> run.log_files("outputs/model", prefix="model").files_uploaded
        2
        """
        return self._client.log_run_files(self.ref, path, prefix=prefix, **transfer)

    def list_files(self) -> "List[RunFile]":
        """Every file of the run, in path order (:meth:`Client.list_run_files`)."""
        return list(self._client.list_run_files(self.ref))

    def register(self, version: Optional[str] = None, path: Optional[str] = None, description: Optional[str] = None,
                 metrics: Optional[Mapping[str, float]] = None, params: Optional[Mapping[str, Any]] = None,
                 tags: Optional[Mapping[str, Any]] = None, aliases: Optional[Sequence[str]] = None) -> "Version":
        """Registers the run as a new ready version of its model from its files (all, or those under ``path``, whose
        prefix is stripped), without uploading anything, and returns the :class:`~berth.Version`. Metric points still
        buffered are sent first (waiting up to ``flush_timeout``), so the version's metrics are the run's final values.
        See :meth:`Client.register_run` for the rest; the run may still be running, and stays so.

        >>> version = run.register(path="model/", version="1.4.0", aliases=["candidate"])
        >>> version.lineage.run_id == run.id
        True
        """
        if not self._closed and not self.flush(self._options.flush_timeout):
            _log.warning("Run %s: registering with %d metric points not yet sent (last error: %s).", self.ref,
                         self.pending_points, self.last_error)
        return self._client.register_run(self.ref, version=version, path=path, description=description, metrics=metrics,
                                         params=params, tags=tags, aliases=aliases)

    # ---- run metadata --------------------------------------------------------------------------------------------

    def set_tags(self, tags: Optional[Mapping[str, Any]] = None, *, remove: Any = ()) -> Run:
        """Sets tags on the run (values are sent as text) and removes the keys in ``remove``; returns the run.

        >>> run.set_tags({"best": "true"}, remove=["wip"]).tags
        {'best': 'true'}
        """
        self._run = self._client.update_run(self.ref, tags=tags, remove_tags=remove)
        return self._run

    def set_note(self, note: str) -> Run:
        """Replaces the run's note (free text; ``""`` clears it); returns the run."""
        self._run = self._client.update_run(self.ref, note=note)
        return self._run

    def set_name(self, name: str) -> Run:
        """Renames the run (``""`` clears the name); returns the run."""
        self._run = self._client.update_run(self.ref, name=name)
        return self._run

    # ---- the end -------------------------------------------------------------------------------------------------

    def finish(self, status: str = "finished") -> Optional[Run]:
        """Sends what is buffered (waiting up to ``flush_timeout``), ends the run with ``status`` (``finished``,
        ``failed`` or ``killed``) and closes the session; returns the ended run. Also ends an attached run. Calling it
        again returns the same run; the end of a ``with`` block after it does nothing more.

        >>> run.finish("failed").status
        'failed'
        """
        if status not in END_STATUSES:
            raise ValueError(f"A run ends as {', '.join(END_STATUSES)}, not {status!r}.")
        return self._close(status)

    def close(self) -> Optional[Run]:
        """Closes the session as the end of a ``with`` block without an exception would: sends what is buffered and
        ends the run ``finished`` (an attached run is left running); returns the ended run, if it ended it."""
        return self._close("finished" if self._finish_on_exit else None)

    def __enter__(self) -> "RunSession":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], trace: "Optional[TracebackType]") -> None:
        status = _status_for(error) if self._finish_on_exit else None
        if error is None:
            self._close(status)
            return
        try:
            self._close(status)
        except Exception as e:  # never hide the exception that left the block
            _log.warning("Run %s: could not end the run as %s: %s", self.ref, status, e)

    def __repr__(self) -> str:
        return f"<berth.RunSession {self.ref}{' attached' if self.attached else ''}{' closed' if self._closed else ''}>"

    def _close(self, status: Optional[str]) -> Optional[Run]:
        with self._lock:
            already = self._closed
            self._closed = True
        if already:
            for sender in self._senders:
                sender.join()
            if status is not None and self._final is None:
                self._final = self._client.finish_run(self.ref, status)
            return self._final
        interrupted: Optional[BaseException] = None
        self._closing = True
        self._wake.set()
        deadline = _time.monotonic() + self._options.flush_timeout
        try:
            for sender in self._senders:
                sender.join(max(0.0, deadline - _time.monotonic()))
        except KeyboardInterrupt as e:  # a second Ctrl+C: stop waiting, still end the run
            interrupted = e
            status = "killed" if status is not None else None
        if any(sender.is_alive() for sender in self._senders):
            self._stop.set()
            self._wake.set()
            self._connections.stop()  # breaks the requests still running
            for sender in self._senders:
                sender.join(10)
        with self._settled:
            self._unsent = self._accepted - self._settled_points
        if self._unsent:
            _log.warning("Run %s: %d points were not sent: the server did not take them within flush_timeout "
                         "(%.0f s; last error: %s).", self.ref, self._unsent, self._options.flush_timeout, self.last_error)
        _open_sessions.discard(self)
        try:
            if status is not None:
                self._final = self._client.finish_run(self.ref, status)
        finally:
            if self._owns_client:
                self._client.close()
        if interrupted is not None:
            raise interrupted
        return self._final

    # ---- the sender threads --------------------------------------------------------------------------------------

    def _send_loop(self, index: int) -> None:
        """One sender: takes a batch when one is due, sends it until it is settled, and again. ``in_flight_batches``
        senders run, so that one writes its batch's JSON while another's request waits for the server; the first also
        sends the heartbeats."""
        options = self._options
        track = self._connections.tracker()
        delay = options.retry_delay
        batch: Optional[Tuple[List[_Point], bytes]] = None  # the points being sent and their JSON, with its id
        next_flush = _time.monotonic() + options.flush_interval
        while not self._stop.is_set():
            if batch is None:
                waiting = len(self._queue)
                now = _time.monotonic()
                if not self._split and (waiting == 0 or not (
                        waiting >= self._flush_points or self._flush_upto > self._taken or self._closing or now >= next_flush)):
                    if waiting == 0 and self._closing:
                        return
                    heartbeat_due = self._last_contact + options.heartbeat_interval
                    if index == 0 and now >= heartbeat_due:
                        self._heartbeat(track)
                        continue
                    self._wake.clear()
                    if len(self._queue) >= self._flush_points or self._closing or self._flush_upto > self._taken:
                        continue
                    until = next_flush - now if waiting else options.flush_interval
                    if index == 0:
                        until = min(until, heartbeat_due - now)
                    self._wake.wait(max(0.001, until))
                    continue
                points = self._take()
                if not points:
                    continue
                # The batch gets its id now and keeps it through every retry: a retry after a lost answer (or a
                # server restart) is stored once.
                batch = (points, _body(points, uuid.uuid4().hex))
                next_flush = now + options.flush_interval
            points, body = batch
            try:
                answer = self._http.request("POST", self._path + "/metrics", body=body,
                                            headers={"Content-Type": "application/json"}, on_connection=track)
                result = answer.json() or {}
            except Exception as e:  # noqa: BLE001 - every failure is sorted below; the thread must not die
                if self._stop.is_set():
                    break
                self.last_error = e
                if _is_transient(e):
                    wait = _retry_after(e) or delay * (0.75 + random.random() / 2)
                    delay = min(delay * 2, options.max_retry_delay)
                    self._stop.wait(wait)
                elif _too_large(e) and len(points) > 1:
                    # Refused whole, so nothing of it was stored: send it as two batches with ids of their own.
                    half = len(points) // 2
                    with self._take_lock:
                        self._batch_points = max(1, min(self._batch_points, half))
                        self._split[:0] = [points[:half], points[half:]]
                    batch = None
                else:
                    _log.warning("Run %s: the server refused a batch of %d points; it is dropped: %s", self.ref, len(points), e)
                    self._settle(len(points), refused=True)
                    batch = None
                continue
            self.last_error = None
            delay = options.retry_delay
            self._last_contact = _time.monotonic()
            self._settle(len(points), duplicate=bool(result.get("duplicate")))
            batch = None

    def _take(self) -> List[_Point]:
        """Takes the next batch (a half of one the server found too large, else from the buffer); its points stay
        counted against ``max_buffered_points`` until they are settled."""
        with self._take_lock:
            if self._split:
                return self._split.pop(0)
            queue = self._queue
            count = min(len(queue), self._batch_points)
            with self._lock:
                self._in_flight += count
            self._taken += count
            popleft = queue.popleft
            return [popleft() for _ in range(count)]

    def _settle(self, count: int, *, refused: bool = False, duplicate: bool = False) -> None:
        with self._lock:
            self._in_flight -= count
        with self._settled:
            self._settled_points += count
            if refused:
                self._refused_batches += 1
                self._refused_points += count
            else:
                self._sent += count
                self._duplicate_batches += duplicate
            self._settled.notify_all()

    def _heartbeat(self, track: Callable[[Any], None]) -> None:
        self._last_contact = _time.monotonic()
        try:
            self._http.request("POST", self._path + "/heartbeat", on_connection=track)
            self.last_error = None
        except Exception as e:  # noqa: BLE001 - a missed heartbeat is retried at the next interval
            self.last_error = e


def _body(points: List[_Point], batch_id: str) -> bytes:
    """A metric batch's JSON, written by hand (about three times faster than ``json.dumps`` of dicts): keys were
    checked when logged (they need no escaping); values are written as ``repr`` writes them, the shortest text that
    reads back the same double, after which the non-finite ones (``nan``, ``inf``, ``-inf``, which no key can be
    mistaken for: a key never holds a quote) become the strings the server takes."""
    body = '{"batchId":"' + batch_id + '","points":[' + ",".join([_POINT % point for point in points]) + "]}"
    body = body.replace('"value":nan,', '"value":"NaN",').replace('"value":inf,', '"value":"Infinity",') \
        .replace('"value":-inf,', '"value":"-Infinity",')
    return body.encode("ascii")


_POINT = '{"key":"%s","step":%d,"value":%r,"time":%d}'


def _milliseconds(value: Union[float, datetime]) -> int:
    """A point's time — a ``datetime`` (naive meaning UTC) or seconds since the epoch — in whole milliseconds."""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return int(float(value) * 1000)


def _is_transient(error: BaseException) -> bool:
    """Failures that may pass: no connection, a timeout, a broken answer, 408, 429, 5xx."""
    if isinstance(error, errors.BerthError):
        if isinstance(error, errors.ConnectionFailed):
            return True
        return error.status is not None and (error.status >= 500 or error.status in (408, 429))
    return isinstance(error, (OSError, http.client.HTTPException))


def _too_large(error: BaseException) -> bool:
    return isinstance(error, errors.BerthError) and (error.status == 413 or error.code == "batch_too_large")


def _retry_after(error: BaseException) -> Optional[float]:
    if isinstance(error, errors.RateLimited) and error.retry_after is not None:
        return min(max(error.retry_after, 0.0), 300.0)
    return None


def _status_for(error: Optional[BaseException]) -> str:
    """How a run ends when ``error`` left its block: finished, failed, or killed (Ctrl+C, a closed generator)."""
    if error is None:
        return "finished"
    if isinstance(error, SystemExit):
        return "finished" if error.code in (None, 0) else "failed"
    if isinstance(error, (KeyboardInterrupt, GeneratorExit)):
        return "killed"
    return "failed"


# Sessions still open when the interpreter exits are closed then: the buffer is sent and the run ended (finished, or
# failed / killed when the program ended with an uncaught exception, which the interpreter leaves in sys.last_value).
_open_sessions: "weakref.WeakSet[RunSession]" = weakref.WeakSet()


def _close_open_sessions() -> None:
    last = getattr(sys, "last_value", None)
    for session in list(_open_sessions):
        try:
            session._close(_status_for(last) if session._finish_on_exit else None)
        except Exception as e:  # noqa: BLE001 - at exit there is nobody left to raise to
            _log.warning("Run %s: could not end the run at exit: %s", session.ref, e)


atexit.register(_close_open_sessions)
# A forked child (a data loader's worker …) has the parent's sessions but not their threads, and must never end the
# parent's runs when it exits.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_open_sessions.clear)
