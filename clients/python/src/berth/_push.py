"""Pushing a version: hash (or take digests from the cache), declare, upload what the server lacks, commit.

The same protocol as the CLI and the C# SDK (docs/api.md, "Pushing a version"): small files go in one request,
large ones through resumable upload sessions; large files whose digest is not cached start streaming to a session
while they are hashed, and that upload is dropped if the server turns out to hold the bytes already.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from . import errors
from ._files import DigestCache, LocalFile, ResumeStore, hash_file, manifest_digest, scan
from ._http import Connections, Transport, backoff, is_retryable, segment, send_file
from ._progress import Progress
from .types import Lineage, PushResult, RunFile, RunFiles, TransitionResult, Version

SINGLE_REQUEST_LIMIT = 16 * 1024 * 1024
STREAM_THRESHOLD = 64 * 1024 * 1024
MAX_UPLOAD_ATTEMPTS = 6
MAX_BUSY_WAIT = 120.0

Report = Optional[Callable[[int], None]]


class Uploader:
    """Upload calls for one model: sessions (start, offset, append, finish, cancel) and one-request uploads."""

    def __init__(self, transport: Transport, ns: str, model: str, resume: Optional[ResumeStore], connections: Connections) -> None:
        self.transport = transport
        self.ns = ns
        self.model = model
        self.resume = resume
        self.connections = connections
        self.path = f"models/{segment(ns)}/{segment(model)}/uploads"

    def resume_key(self, f: LocalFile) -> str:
        """How the CLI remembers the upload of a local file: server, model and the file's identity."""
        return f"{self.transport.base_url}|{self.ns}/{self.model}|{f.full_path}|{f.size}|{f.mtime_ticks}"

    def start(self) -> str:
        """Opens an upload session; returns its location."""
        return str(self.transport.call_retrying("POST", self.path)["location"])

    def offset(self, location: str) -> int:
        """How many bytes the session holds durably."""
        return int(self.transport.call("GET", location)["offset"])

    def append(self, location: str, file: Any, offset: int, count: int, report: Report) -> int:
        """Sends ``count`` bytes of ``file`` from ``offset``; returns the session's new offset."""
        answer = self.transport.request(
            "PATCH", location, headers={"Upload-Offset": str(offset), "Content-Type": "application/octet-stream"},
            writer=lambda conn: send_file(conn, file, offset, count, report), length=count,
            on_connection=self.connections.tracker())
        return int(answer.json()["offset"])

    def finish(self, location: str, digest: str, size: int) -> Any:
        """Asks the server to verify the session against the digest and size, and store the blob."""
        return self.transport.call("PUT", location, query={"digest": digest, "size": size})

    def cancel(self, location: str) -> None:
        """Deletes a session and its bytes."""
        self.transport.request("DELETE", location)

    def put_blob(self, f: LocalFile, digest: str, report: Report) -> None:
        """Uploads a small file in one request, retrying broken attempts."""
        for attempt in range(1, MAX_UPLOAD_ATTEMPTS + 1):
            sent = [0]

            def count(n: int) -> None:
                sent[0] += n
                if report:
                    report(n)

            try:
                with open(f.full_path, "rb", buffering=0) as file:
                    self.transport.request(
                        "POST", self.path, query={"digest": digest, "size": f.size},
                        headers={"Content-Type": "application/octet-stream"},
                        writer=lambda conn: send_file(conn, file, 0, f.size, count), length=f.size,
                        on_connection=self.connections.tracker())
                return
            except BaseException as e:
                if attempt >= MAX_UPLOAD_ATTEMPTS or not is_retryable(e) or self.connections.stopped.is_set():
                    raise
                if report:
                    report(-sent[0])
                time.sleep(backoff(attempt))

    def upload_file(self, f: LocalFile, digest: str, report: Report) -> int:
        """Uploads a file through a resumable session, continuing the one an earlier push left; returns the bytes resumed."""
        key = self.resume_key(f)
        location = self.resume.get(key) if self.resume else None
        offset = 0
        if location is not None:
            try:
                offset = self.offset(location)
                if report:
                    report(offset)
            except errors.NotFound:
                location = None
        if location is None:
            location = self.start()
            if self.resume:
                self.resume.set(key, location)
        try:
            self.continue_upload(location, f.full_path, digest, f.size, offset, report)
        except errors.BerthError as e:
            if e.code in ("digest_mismatch", "size_mismatch", "upload_not_found") and self.resume:
                self.resume.remove(key)
            raise
        if self.resume:
            self.resume.remove(key)
        return offset

    def continue_upload(self, location: str, path: str, digest: str, size: int, offset: int, report: Report) -> None:
        """Sends the rest of the file from ``offset`` and finishes, resuming from the server's offset after failures."""
        failures = 0
        busy_waited = 0.0
        while True:
            sent = [0]
            before = offset

            def count(n: int) -> None:
                sent[0] += n
                if report:
                    report(n)

            try:
                if offset < size:
                    with open(path, "rb", buffering=0) as file:
                        offset = self.append(location, file, offset, size - offset, count)
                self.finish(location, digest, size)
                return
            except errors.BerthError as e:
                if e.code == "upload_busy" and busy_waited < MAX_BUSY_WAIT and not self.connections.stopped.is_set():
                    # Another request holds the upload (an earlier attempt the server has not seen end yet): wait.
                    delay = _busy_delay(e)
                    busy_waited += delay
                    time.sleep(delay)
                    offset = int(self.transport.call_retrying("GET", location)["offset"])
                else:
                    failures += 1
                    if failures >= MAX_UPLOAD_ATTEMPTS or not is_retryable(e) or self.connections.stopped.is_set():
                        raise
                    time.sleep(backoff(failures))
                    hint = e.extensions.get("offset")
                    offset = int(hint) if e.code == "upload_offset_mismatch" and isinstance(hint, int) else \
                        int(self.transport.call_retrying("GET", location)["offset"])
            except BaseException as e:
                failures += 1
                if failures >= MAX_UPLOAD_ATTEMPTS or not is_retryable(e) or self.connections.stopped.is_set():
                    raise
                time.sleep(backoff(failures))
                offset = int(self.transport.call_retrying("GET", location)["offset"])
            # Progress counted what was sent; the server kept up to its offset.
            if report:
                report(offset - before - sent[0])


def _busy_delay(e: errors.BerthError) -> float:
    hint = e.extensions.get("retryAfter")
    seconds = float(hint) if isinstance(hint, (int, float)) else 1.0
    return min(max(seconds, 0.25), 10.0) * (0.75 + random.random() / 2)


class StreamedUpload:
    """A large file sent to an upload session while it is still being hashed (a thread of its own).

    The session is remembered under the file's identity, so a push interrupted before the digest was known
    resumes too. ``complete`` finishes it once the digest is known; ``abandon`` deletes it when the server
    turned out to hold the bytes; ``stop`` breaks it off and keeps the session for a later push.
    """

    def __init__(self, transport: Transport, ns: str, model: str, resume: Optional[ResumeStore], f: LocalFile) -> None:
        self.connections = Connections()
        self._uploader = Uploader(transport, ns, model, resume, self.connections)
        self._file = f
        self._key = self._uploader.resume_key(f)
        self._lock = threading.Lock()
        self._forward: Report = None
        self._sent = 0
        self.resumed_from = 0
        self.location: Optional[str] = None
        self._offset = -1
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name=f"berth-stream-{f.path}", daemon=True)
        self._thread.start()

    def _report(self, n: int) -> None:
        with self._lock:
            self._sent += n
            forward = self._forward
        if forward:
            forward(n)

    def _run(self) -> None:
        up, f = self._uploader, self._file
        try:
            offset = 0
            location = up.resume.get(self._key) if up.resume else None
            if location is not None:
                try:
                    offset = up.offset(location)
                    self.resumed_from = offset
                except errors.NotFound:
                    location = None
            if location is None:
                location = up.start()
                if up.resume:
                    up.resume.set(self._key, location)
            self.location = location
            if offset < f.size and not self.connections.stopped.is_set():
                with open(f.full_path, "rb", buffering=0) as file:
                    offset = up.append(location, file, offset, f.size - offset, self._report)
            self._offset = offset if offset >= f.size else -1
        except BaseException as e:  # finishing resumes from what the server holds; abandoning does not care
            self._offset = -1
            self._error = e

    def attach(self, progress: Progress) -> None:
        """From now on, report to ``progress`` (which first gets what was sent so far)."""
        with self._lock:
            self._forward = progress.add
            already = self.resumed_from + self._sent
        progress.add(already)

    def complete(self, digest: str, progress: Progress) -> int:
        """Waits for the stream, sends what is still missing, finishes with the digest; returns the bytes resumed."""
        self._thread.join()
        up, f = self._uploader, self._file
        if self.location is None:
            raise self._error or errors.ConnectionFailed("connection_failed", f"Could not open an upload for '{f.path}'.")
        offset = self._offset
        if offset < 0:
            offset = int(up.transport.call_retrying("GET", self.location)["offset"])
            with self._lock:
                self._forward = None
                correction = offset - self.resumed_from - self._sent
            progress.add(correction)
        up.continue_upload(self.location, f.full_path, digest, f.size, offset, progress.add)
        if up.resume:
            up.resume.remove(self._key)
        return self.resumed_from

    def stop(self) -> None:
        """Breaks the stream off; the session stays on the server (and in the resume store) to be continued."""
        self.connections.stop()
        self._thread.join()

    def abandon(self) -> None:
        """Stops the stream and deletes the session (the server holds these bytes already)."""
        self.stop()
        up = self._uploader
        if self.location is None:
            return
        for attempt in range(1, 21):
            try:
                up.cancel(self.location)
                break
            except errors.BerthError as e:
                # The stopped request may hold the upload a moment longer (until the server sees it end): try again.
                if e.code == "upload_busy" and attempt < 20:
                    time.sleep(min(0.1 * attempt, 0.5))
                    continue
                break  # an upload left behind expires on the server by itself
            except OSError:
                break
        if up.resume:
            up.resume.remove(self._key)


def push(
    transport: Transport,
    source: str,
    ns: str,
    model: str,
    *,
    version: Optional[str],
    description: Optional[str],
    metrics: Optional[Mapping[str, float]],
    params: Optional[Mapping[str, Any]],
    tags: Optional[Mapping[str, Any]],
    aliases: Optional[Sequence[str]],
    lineage: Optional[Any],
    allow_unchanged: bool,
    parallelism: int,
    progress: Progress,
    digest_cache: Optional[DigestCache],
    resume: Optional[ResumeStore],
    single_request_limit: int,
    stream_threshold: Optional[int],
    get_version: Callable[[str], Version],
    set_alias: Callable[[str, str], TransitionResult],
) -> PushResult:
    """Pushes a folder or file as a version of ``ns/model`` (see :meth:`berth.Client.push`)."""
    clock = time.monotonic()
    parallelism = max(1, int(parallelism))
    request = _declaration(version, description, metrics, params, tags, aliases, lineage)
    files = scan(source)
    if not files:
        raise ValueError(f"'{source}' holds no files (folders named .git and partial downloads are left out): there is nothing to push.")

    transfer = _Transfer(transport, ns, model, files, parallelism, progress, digest_cache, resume, single_request_limit,
                         stream_threshold)
    try:
        # 1. Digests: from the cache, else hashed (in parallel); large uncached files start streaming meanwhile.
        digests = transfer.hash_all()
        entries = [_Entry(f.path, f.size, d) for f, d in zip(files, digests)]
        total = sum(f.size for f in files)

        # 2. Unchanged content: a ready version with the same manifest creates nothing (unless asked to).
        same = _same_content(get_version, manifest_digest(entries))
        if same is not None and version is None and not allow_unchanged:
            transfer.abandon_unneeded([])
            moves = [set_alias(alias, str(same.number)) for alias in aliases or []]
            current = get_version(str(same.number)) if moves else same
            progress.start("done", 0, 0)
            return PushResult(current, True, same, moves, len(files), total, 0, 0, 0, transfer.hashed, time.monotonic() - clock)

        # 3. Declare (safe to retry with the same idempotency key).
        request["files"] = [{"path": e.path, "size": e.size, "digest": e.digest} for e in entries]
        created = transport.call_retrying("POST", f"models/{segment(ns)}/{segment(model)}/versions", json_body=request,
                                          headers={"Idempotency-Key": uuid.uuid4().hex})
        number = int(created["version"]["number"])

        # 4. Upload what is missing: one file per digest (a streamed one first); streams of digests the server holds
        # are dropped.
        to_upload: List[str] = [str(d) for d in created.get("missingBlobs") or []]
        transfer.abandon_unneeded(to_upload)
        for round_number in (1, 2, 3):
            transfer.upload(to_upload)

            # 5. Commit: the version becomes ready once the server holds and has verified every blob.
            try:
                ready = transport.call_retrying("POST", f"models/{segment(ns)}/{segment(model)}/versions/{number}/commit")
            except errors.Conflict as e:
                listed = e.extensions.get("missing")
                if round_number < 3 and e.code == "blobs_missing" and isinstance(listed, list):
                    # A blob the server said it had disappeared (garbage collection raced us): upload it too.
                    to_upload = [str(d) for d in listed]
                    continue
                raise
            progress.start("done", 0, 0)
            counts = transfer.counts
            return PushResult(Version.from_json(ready), False, same, [], len(files), total, counts[0], counts[1], counts[2],
                              transfer.hashed, time.monotonic() - clock)
        raise AssertionError("unreachable")
    finally:
        transfer.close()


def upload_run_files(
    transport: Transport,
    source: str,
    ns: str,
    model: str,
    run_path: str,
    *,
    prefix: Optional[str],
    parallelism: int,
    progress: Progress,
    digest_cache: Optional[DigestCache],
    resume: Optional[ResumeStore],
    single_request_limit: int,
    stream_threshold: Optional[int],
) -> RunFiles:
    """Uploads a folder or file as files of a run (see :meth:`berth.RunSession.log_files`): hash (with the digest
    cache), ask the server to attach, upload only the digests it answers missing (push's transfer code), attach again."""
    clock = time.monotonic()
    parallelism = max(1, int(parallelism))
    files = scan(source)
    if not files:
        raise ValueError(f"'{source}' holds no files (folders named .git and partial downloads are left out): there is nothing to upload.")
    lead = (prefix or "").strip("/")
    transfer = _Transfer(transport, ns, model, files, parallelism, progress, digest_cache, resume, single_request_limit,
                         stream_threshold)
    try:
        digests = transfer.hash_all()
        body = {"files": [{"path": f"{lead}/{f.path}" if lead else f.path, "size": f.size, "digest": d}
                          for f, d in zip(files, digests)]}
        to_upload: List[str] = []
        for round_number in (1, 2, 3):
            if to_upload:
                transfer.upload(to_upload)
            try:
                # Attaching first answers exactly what the server lacks for this run (its rule also counts what was
                # uploaded into the model or attached to its runs before), so an unchanged folder sends nothing.
                attached = transport.call_retrying("POST", run_path + "/files", json_body=body)
            except errors.Conflict as e:
                listed = e.extensions.get("missing")
                if round_number < 3 and e.code == "blobs_missing" and isinstance(listed, list):
                    to_upload = [str(d) for d in listed]
                    transfer.abandon_unneeded(to_upload)
                    continue
                raise
            transfer.abandon_unneeded([])
            progress.start("done", 0, 0)
            counts = transfer.counts
            return RunFiles([RunFile.from_json(x) for x in (attached or {}).get("files") or []], len(files),
                            sum(f.size for f in files), counts[0], counts[1], counts[2], transfer.hashed,
                            time.monotonic() - clock)
        raise AssertionError("unreachable")
    finally:
        transfer.close()


class _Transfer:
    """The transfer half of a push, shared with run files: hashing (digest cache, parallel, large uncached files
    streaming to an upload session meanwhile) and uploading the digests the server names (parallel, resumable)."""

    def __init__(self, transport: Transport, ns: str, model: str, files: List[LocalFile], parallelism: int, progress: Progress,
                 digest_cache: Optional[DigestCache], resume: Optional[ResumeStore], single_request_limit: int,
                 stream_threshold: Optional[int]) -> None:
        self.transport, self.ns, self.model, self.files = transport, ns, model, files
        self.parallelism, self.progress, self.digest_cache, self.resume = parallelism, progress, digest_cache, resume
        self.single_request_limit, self.stream_threshold = single_request_limit, stream_threshold
        self.connections = Connections()
        self.uploader = Uploader(transport, ns, model, resume, self.connections)
        self.streams: Dict[int, StreamedUpload] = {}
        self.stop_hashing = threading.Event()
        self.hashing = ThreadPoolExecutor(max_workers=max(1, min(parallelism, os.cpu_count() or 1)), thread_name_prefix="berth-hash")
        self.pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="berth-push")
        self.digests: List[str] = [""] * len(files)
        self.by_digest: Dict[str, int] = {}
        self.hashed = 0
        self.counts = [0, 0, 0]  # files uploaded, bytes sent now, bytes resumed
        self._lock = threading.Lock()

    def hash_all(self) -> List[str]:
        """Every file's digest: from the cache, else hashed in parallel; large uncached files start streaming."""
        files, digests, progress, cache = self.files, self.digests, self.progress, self.digest_cache
        todo: List[int] = []
        progress.start("hashing", sum(f.size for f in files), len(files))
        for i, f in enumerate(files):
            cached = cache.get(f) if cache else None
            if cached:
                digests[i] = cached
                progress.add(f.size)
                progress.file_done()
                continue
            todo.append(i)
            if self.stream_threshold is not None and f.size >= self.stream_threshold and len(self.streams) < self.parallelism:
                self.streams[i] = StreamedUpload(self.transport, self.ns, self.model, self.resume, f)

        def hash_one(i: int) -> None:
            digests[i] = hash_file(files[i].full_path, progress.add if progress.enabled else None, self.stop_hashing)
            if cache:
                cache.set(files[i], digests[i])
            progress.file_done()

        _run_all(self.hashing, hash_one, todo)
        if cache:
            cache.save()
        self.hashed = len(todo)
        # One file per digest, a streamed one first.
        for i in sorted(range(len(files)), key=lambda i: 0 if i in self.streams else 1):
            self.by_digest.setdefault(digests[i], i)
        return digests

    def abandon_unneeded(self, to_upload: Sequence[str]) -> None:
        """Drops the streams whose digest the server holds (or that another file of the same digest carries)."""
        wanted = set(to_upload)
        for i in [i for i in self.streams if self.digests[i] not in wanted or self.by_digest[self.digests[i]] != i]:
            self.streams.pop(i).abandon()

    def upload(self, to_upload: Sequence[str]) -> None:
        """Uploads one local file for each of the digests, ``parallelism`` at a time."""
        files, digests, streams, progress = self.files, self.digests, self.streams, self.progress

        def upload_one(i: int) -> None:
            f, digest = files[i], digests[i]
            stream = streams.pop(i, None)
            try:
                if stream is not None:
                    resumed = stream.complete(digest, progress)
                elif f.size > self.single_request_limit:
                    resumed = self.uploader.upload_file(f, digest, progress.add)
                else:
                    self.uploader.put_blob(f, digest, progress.add if progress.enabled else None)
                    resumed = 0
            except errors.DigestMismatch:
                # The file changed after it was hashed (or behind the cache's back): hash it again next time.
                if self.digest_cache:
                    self.digest_cache.forget(f)
                raise
            with self._lock:
                self.counts[0] += 1
                self.counts[1] += f.size - resumed
                self.counts[2] += resumed
            progress.file_done()

        work = [self.by_digest[d] for d in dict.fromkeys(to_upload) if d in self.by_digest]
        progress.start("uploading", sum(files[i].size for i in work), len(work))
        for i in work:
            if i in streams:
                streams[i].attach(progress)
        _run_all(self.pool, upload_one, work)

    def close(self) -> None:
        """Failed or interrupted: stops everything, but keeps the sessions so that a next attempt resumes them."""
        self.stop_hashing.set()
        self.connections.stop()
        for stream in self.streams.values():
            stream.stop()
        self.hashing.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.progress.finish()


class _Entry:
    __slots__ = ("path", "size", "digest")

    def __init__(self, path: str, size: int, digest: str) -> None:
        self.path, self.size, self.digest = path, size, digest


def _run_all(pool: ThreadPoolExecutor, work: Callable[[int], None], items: Sequence[int]) -> None:
    """Runs ``work`` on every item in the pool; the first failure is raised once every started item has ended."""
    futures: List["Future[None]"] = [pool.submit(work, i) for i in items]
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    for future in done:
        if future.exception() is not None:
            for p in pending:
                p.cancel()
            raise future.exception()  # type: ignore[misc]


def _same_content(get_version: Callable[[str], Version], digest: str) -> Optional[Version]:
    try:
        return get_version(digest)
    except errors.NotFound as e:
        if e.code in ("namespace_not_found", "model_not_found", "version_not_found"):
            return None
        raise


def _declaration(version: Optional[str], description: Optional[str], metrics: Optional[Mapping[str, float]],
                 params: Optional[Mapping[str, Any]], tags: Optional[Mapping[str, Any]], aliases: Optional[Sequence[str]],
                 lineage: Optional[Any]) -> Dict[str, Any]:
    checked: Dict[str, float] = {}
    for name, value in (metrics or {}).items():
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"Metric '{name}' is {value}: metrics must be finite numbers.")
        checked[str(name)] = number
    if isinstance(aliases, str):
        aliases = [aliases]
    if lineage is not None and not isinstance(lineage, Lineage):
        lineage = Lineage(**dict(lineage))
    return {
        "version": version,
        "description": description,
        "metrics": checked or None,
        "params": {str(k): _text(v) for k, v in params.items()} if params else None,
        "tags": {str(k): _text(v) for k, v in tags.items()} if tags else None,
        "aliases": list(aliases) if aliases else None,
        "lineage": lineage.to_json() if lineage is not None else None,
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
