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
import random
import re
import sys
import threading
import time as _time
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Deque, Dict, List, Mapping, Optional, Tuple, Type, Union

from . import errors
from ._http import segment
from .types import Run

if TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from .client import Client

__all__ = ["RunSession", "RunSessionOptions", "check_metric_key", "RUN_ID_VARIABLE", "END_STATUSES"]

RUN_ID_VARIABLE = "BERTH_RUN_ID"
"""The environment variable ``berth run exec`` sets to the reference (``namespace/model/id``) of the run it started."""

END_STATUSES = ("finished", "failed", "killed")
"""How a client may end a run (``crashed`` is the server's verdict on a run that stopped sending heartbeats)."""

_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*\Z")
_KEY_MAX = 128

_log = logging.getLogger("berth")

# A buffered point: (key, step, value, time in seconds since the epoch). Tuples are the cheapest thing to append.
_Point = Tuple[str, int, float, float]


def check_metric_key(key: str) -> None:
    """Raises ``ValueError`` unless ``key`` is a metric name the server takes: 1–128 letters, digits, ``_``, ``.``,
    ``-`` or ``/``, not starting with a punctuation character other than ``_``."""
    if not isinstance(key, str) or not 1 <= len(key) <= _KEY_MAX or not _KEY.match(key):
        raise ValueError(
            f"Invalid metric name {key!r}: use 1-{_KEY_MAX} letters, digits, '_', '.', '-' or '/', "
            "not starting with a punctuation character.")


@dataclass(frozen=True)
class RunSessionOptions:
    """How a :class:`RunSession` buffers and sends metric points (the defaults suit a training loop; the C# SDK's
    ``RunSessionOptions`` has the same ones).

    Attributes:
        flush_interval: seconds between sends of whatever is buffered (sooner once ``flush_points`` wait).
        flush_points: send as soon as this many points wait.
        batch_points: the most points in one batch. The server refuses larger ones (``Runs:MaxBatchPoints``,
            10,000 by default; ``Runs:MaxBatchBytes``, 4 MiB, which 10,000 points of the longest keys stay under). A
            server configured lower answers ``batch_too_large``; the session then halves the batch and keeps going.
        max_buffered_points: the most points held in memory, waiting or being sent (about 100 bytes each). When the
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
    flush_points: int = 5_000
    batch_points: int = 10_000
    max_buffered_points: int = 1_000_000
    retry_delay: float = 0.25
    max_retry_delay: float = 30.0
    heartbeat_interval: float = 60.0
    flush_timeout: float = 120.0

    def __post_init__(self) -> None:
        for name in ("flush_points", "batch_points", "max_buffered_points"):
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
        self._connection: Any = None
        self.last_error: Optional[BaseException] = None
        """The latest error of a send or heartbeat (``None`` after a success): a retried failure, or a refusal."""

        self._thread = threading.Thread(target=self._send_loop, name=f"berth-run-{run.id}", daemon=True)
        self._thread.start()
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
        t = _time.time() if time is None else _seconds(time)
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
        t = _time.time() if time is None else _seconds(time)
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
                if not self._thread.is_alive():
                    return False
                left = 0.5 if deadline is None else min(0.5, deadline - _time.monotonic())
                if left <= 0:
                    return False
                self._settled.wait(left)
        return True

    # ---- run metadata --------------------------------------------------------------------------------------------
    # Run files and registering the run as a version (issue 12, not built yet on the server) belong here too, as
    # methods that use self._client's transfer machinery (the version upload protocol) under self._path.

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
            if self._closed:
                already = True
            else:
                already = False
                self._closed = True
        if already:
            self._thread.join()
            if status is not None and self._final is None:
                self._final = self._client.finish_run(self.ref, status)
            return self._final
        interrupted: Optional[BaseException] = None
        self._closing = True
        self._wake.set()
        try:
            self._thread.join(self._options.flush_timeout)
        except KeyboardInterrupt as e:  # a second Ctrl+C: stop waiting, still end the run
            interrupted = e
            status = "killed" if status is not None else None
        if self._thread.is_alive():
            self._stop.set()
            self._wake.set()
            connection = self._connection
            if connection is not None and connection.sock is not None:
                try:
                    connection.sock.shutdown(2)
                except OSError:
                    pass
            self._thread.join(10)
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

    # ---- the sender thread ---------------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        options = self._options
        delay = options.retry_delay
        batch: Optional[Tuple[str, List[_Point], bytes]] = None
        split: List[List[_Point]] = []  # halves of a batch the server found too large, sent before the queue
        next_flush = _time.monotonic() + options.flush_interval
        last_contact = _time.monotonic()
        while not self._stop.is_set():
            if batch is None:
                waiting = len(self._queue)
                now = _time.monotonic()
                if not split and (waiting == 0 or not (
                        waiting >= self._flush_points or self._flush_upto > self._taken or self._closing or now >= next_flush)):
                    if waiting == 0 and self._closing:
                        return
                    if now - last_contact >= options.heartbeat_interval:
                        self._heartbeat()
                        last_contact = _time.monotonic()
                        continue
                    self._wake.clear()
                    if len(self._queue) >= self._flush_points or self._closing or self._flush_upto > self._taken:
                        continue
                    until_flush = next_flush - now if waiting else options.flush_interval
                    self._wake.wait(max(0.001, min(until_flush, last_contact + options.heartbeat_interval - now)))
                    continue
                points = split.pop(0) if split else self._take()
                batch = (uuid.uuid4().hex, points, _body(points))
                next_flush = now + options.flush_interval
            batch_id, points, body = batch
            try:
                answer = self._http.request("POST", self._path + "/metrics", body=body,
                                            headers={"Content-Type": "application/json"}, on_connection=self._track)
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
                    self._batch_points = max(1, min(self._batch_points, half))
                    split[:0] = [points[:half], points[half:]]
                    batch = None
                else:
                    self._refused_batches += 1
                    self._refused_points += len(points)
                    _log.warning("Run %s: the server refused a batch of %d points; it is dropped: %s", self.ref, len(points), e)
                    self._settle(len(points))
                    batch = None
                continue
            self._sent += len(points)
            if result.get("duplicate"):
                self._duplicate_batches += 1
            self.last_error = None
            delay = options.retry_delay
            last_contact = _time.monotonic()
            self._settle(len(points))
            batch = None

    def _take(self) -> List[_Point]:
        """Takes the next batch from the buffer; its points stay counted against ``max_buffered_points`` until settled."""
        queue = self._queue
        count = min(len(queue), self._batch_points)
        with self._lock:
            self._in_flight += count
        self._taken += count
        popleft = queue.popleft
        return [popleft() for _ in range(count)]

    def _settle(self, count: int) -> None:
        with self._lock:
            self._in_flight -= count
        with self._settled:
            self._settled_points += count
            self._settled.notify_all()

    def _track(self, connection: Any) -> None:
        self._connection = connection

    def _heartbeat(self) -> None:
        try:
            self._http.request("POST", self._path + "/heartbeat", on_connection=self._track)
            self.last_error = None
        except Exception as e:  # noqa: BLE001 - a missed heartbeat is retried at the next interval
            self.last_error = e


def _body(points: List[_Point]) -> bytes:
    """A metric batch's JSON, written by hand: keys were checked (they need no escaping), finite values are written as
    ``repr`` writes them (the shortest text that reads back the same double) and the others as ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``; times in whole milliseconds."""
    point = '{"key":"%s","step":%d,"value":%s,"time":%d}'
    items = ",".join([point % (k, s, v if v - v == 0.0 else _special(v), t * 1000.0) for k, s, v, t in points])
    return ('{"points":[' + items + "]}").encode("ascii")


def _special(value: float) -> str:
    if value != value:
        return '"NaN"'
    return '"Infinity"' if value > 0 else '"-Infinity"'


def _seconds(value: Union[float, datetime]) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


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
