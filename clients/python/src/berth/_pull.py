"""Pulling a version into a folder: verified byte for byte, parallel, resumable, never through a symbolic link.

Like the CLI (docs/api.md, "Pulling a version"): the reference is resolved once and files are addressed by the
version's number; the file list must match the manifest digest; each file is written to ``<file>.berth-partial``
while it is hashed and renamed into place only when its size and SHA-256 match; a broken download keeps its
partial file, which the next attempt (in this pull or a later one) continues with a ``Range`` request.

The folder is touched without following links inside it: every parent of a file is opened one level at a time
with ``O_NOFOLLOW`` relative to its parent (``dir_fd``), partial files are opened with ``O_NOFOLLOW`` and locked,
and files are renamed into place, which replaces a link instead of writing through it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import shutil
import stat
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from . import errors
from ._files import PARTIAL_SUFFIX, manifest_digest
from ._http import Connections, Transport, backoff, is_retryable, segment
from ._progress import Progress
from .types import FileEntry, PullResult, PullWarning, Version

MAX_DOWNLOAD_ATTEMPTS = 6
_CHUNK = 1024 * 1024
_EMPTY = "sha256:" + hashlib.sha256(b"").hexdigest()
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_DIR_FD = os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd and _NOFOLLOW != 0  # os.replace uses renameat too

_RISKY_ANYWHERE = {".git", ".hg", ".svn", ".bzr", ".gitmodules"}
_RISKY_ROOT_FOLDERS = {".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config", ".local", ".circleci",
                       ".buildkite", ".vscode", ".devcontainer"}
_RISKY_ROOT_FILES = {".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv", ".zprofile",
                     ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".inputrc", ".envrc", ".netrc", ".npmrc", ".pypirc",
                     ".gitconfig", ".git-credentials", ".gitlab-ci.yml", ".travis.yml"}
_RISKY_WORKFLOWS = {".github", ".gitea", ".forgejo"}


def check_path(path: str) -> None:
    """Refuses a path the server listed that could leave the folder (absolute, ``..``, backslashes, NUL …)."""
    parts = path.split("/")
    if (not path or path.startswith("/") or "\\" in path or "\0" in path or any(p in ("", ".", "..") for p in parts)
            or (len(parts[0]) >= 2 and parts[0][1] == ":")):
        raise errors.BerthError("invalid_path", f"The server listed an unsafe path: '{path}'.")


def risky(path: str) -> Optional[str]:
    """Why materialising this path is dangerous (a tool would act on it by itself), or ``None``."""
    parts = [p.lower() for p in path.split("/")]
    if any(p in _RISKY_ANYWHERE for p in parts):
        return "version-control metadata"
    if len(parts) > 1 and parts[0] in _RISKY_ROOT_FOLDERS:
        return "a folder of credentials, settings or CI pipelines"
    if len(parts) == 1 and parts[0] in _RISKY_ROOT_FILES:
        return "a shell start-up, credentials or CI configuration file"
    if len(parts) > 2 and parts[0] in _RISKY_WORKFLOWS and parts[1] == "workflows":
        return "a CI workflow"
    return None


def _kind(full: str) -> str:
    try:
        mode = os.lstat(full).st_mode
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special file"


def _describe(kind: str) -> str:
    return {"link": "a symbolic link", "folder": "a folder", "file": "a file"}.get(kind, kind)


class Target:
    """The folder a pull writes into. The root may be a link (the user named it); nothing inside it is followed."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def full(self, relative: str) -> str:
        """The full path of a ``/``-separated path in the folder."""
        return os.path.join(self.root, *relative.split("/"))

    def inspect(self, relative: str) -> Tuple[str, Optional[str], str]:
        """What is at ``relative`` (a link is a link), or the first parent that is not a real folder."""
        parts = relative.split("/")
        for i in range(len(parts) - 1):
            parent = "/".join(parts[: i + 1])
            kind = _kind(self.full(parent))
            if kind == "folder":
                continue
            if kind == "missing":
                return "missing", None, "missing"
            return "missing", parent, kind
        return _kind(self.full(relative)), None, "missing"

    @contextlib.contextmanager
    def parent(self, relative: str, replace: bool) -> Iterator[Tuple[Optional[int], str]]:
        """The folder that holds ``relative``, created one level at a time, as ``(dir_fd or None, folder path)``.

        With ``replace``, a file or link in the way of a folder is removed (the link itself, never its target);
        otherwise it is an error.
        """
        parts = relative.split("/")
        if not _DIR_FD:
            path = self.root
            os.makedirs(path, exist_ok=True)
            for part in parts[:-1]:
                path = os.path.join(path, part)
                kind = _kind(path)
                if kind in ("file", "link", "special file"):
                    if not replace:
                        raise errors.BerthError("pull_conflict", f"'{path}' is {_describe(kind)}, where the version has a folder; Berth does not write through it.")
                    os.remove(path)
                    kind = "missing"
                if kind == "missing":
                    os.mkdir(path)
            yield None, path
            return
        os.makedirs(self.root, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        path = self.root
        try:
            for part in parts[:-1]:
                path = os.path.join(path, part)
                for attempt in (1, 2, 3):
                    try:
                        child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
                        break
                    except FileNotFoundError:
                        with contextlib.suppress(FileExistsError):
                            os.mkdir(part, 0o777, dir_fd=fd)
                    except OSError as e:
                        if e.errno not in (errno.ENOTDIR, errno.ELOOP) or attempt == 3:
                            raise
                        if not replace:
                            raise errors.BerthError("pull_conflict", f"'{path}' is not a real folder (a file or a link); Berth does not write through it.") from e
                        os.unlink(part, dir_fd=fd)
                else:
                    raise OSError(f"'{path}' kept changing while it was being created.")
                os.close(fd)
                fd = child
            yield fd, path
        finally:
            os.close(fd)


def _remove(full: str) -> None:
    """Removes a file, a link (never its target) or a folder with everything in it (links inside are not followed)."""
    kind = _kind(full)
    if kind == "folder":
        shutil.rmtree(full)
    elif kind != "missing":
        os.remove(full)


def _load_sync_file_range() -> Optional[Callable[[int, int, int, int], int]]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).sync_file_range
        function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
        function.restype = ctypes.c_int
        return function
    except (OSError, AttributeError, ImportError):
        return None


_SYNC_FILE_RANGE = _load_sync_file_range()
_WINDOW = 16 * 1024 * 1024


class _Writeback:
    """Keeps a large download from filling the page cache, as the CLI does: once 16 MiB more are written, the
    window before last is waited for on disk and dropped from the cache, and the last one starts writing back.
    Without it the kernel throttles the writer once a gigabyte of dirty pages piles up (Linux; elsewhere a no-op)."""

    def __init__(self, fd: int, start: int) -> None:
        self._fd = fd
        self._cached_from = start
        self._writeback_from = start
        self._enabled = _SYNC_FILE_RANGE is not None and hasattr(os, "posix_fadvise")

    def written(self, end: int) -> None:
        """Every byte before ``end`` has been written."""
        if not self._enabled or end - self._writeback_from < _WINDOW:
            return
        assert _SYNC_FILE_RANGE is not None
        older = self._writeback_from - self._cached_from
        if older > 0:
            _SYNC_FILE_RANGE(self._fd, self._cached_from, older, 1 | 2 | 4)  # wait before, write, wait after
            with contextlib.suppress(OSError):
                os.posix_fadvise(self._fd, self._cached_from, older, os.POSIX_FADV_DONTNEED)
        _SYNC_FILE_RANGE(self._fd, self._writeback_from, end - self._writeback_from, 2)  # start writing back
        self._cached_from, self._writeback_from = self._writeback_from, end


class _Sink:
    """Writes and hashes received chunks on a thread of its own, so that receiving the next chunk overlaps
    writing and hashing the last one (the CLI does the same with two buffers). ``written`` and the hash always
    cover exactly the same bytes."""

    def __init__(self, fd: int, start: int, digest: "hashlib._Hash") -> None:
        self.digest = digest
        self.written = start
        self._fd = fd
        self._window = _Writeback(fd, start)
        self._error: Optional[BaseException] = None
        self._queue: "queue.Queue[Optional[Tuple[bytearray, int]]]" = queue.Queue(maxsize=4)
        self._free: "queue.Queue[bytearray]" = queue.Queue()
        for _ in range(6):
            self._free.put(bytearray(_CHUNK))
        self._thread = threading.Thread(target=self._run, daemon=True, name="berth-write")
        self._thread.start()

    def buffer(self) -> bytearray:
        """A free buffer to receive into."""
        self._check()
        return self._free.get()

    def give_back(self, buffer: bytearray) -> None:
        """Returns a buffer that was not handed to :meth:`feed`."""
        self._free.put(buffer)

    def feed(self, buffer: bytearray, n: int) -> None:
        """Writes and hashes the first ``n`` bytes of ``buffer`` (which then returns to the free list)."""
        self._check()
        self._queue.put((buffer, n))

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            buffer, n = item
            if self._error is None:
                try:
                    view = memoryview(buffer)[:n]
                    position = self.written
                    while view:
                        done = os.pwrite(self._fd, view, position)
                        view, position = view[done:], position + done
                    self.digest.update(memoryview(buffer)[:n])
                    self.written += n
                    self._window.written(self.written)
                except OSError as e:  # a full disk …: raised to the receiver, not retried
                    self._error = errors.BerthError("write_failed", f"Writing the download failed: {e}.")
                    self._error.__cause__ = e
                except BaseException as e:
                    self._error = e
            self._free.put(buffer)

    def close(self) -> "hashlib._Hash":
        """Waits until everything fed is written and hashed; returns the hash (raises a write's error)."""
        self._queue.put(None)
        self._thread.join()
        self._check()
        return self.digest


class Downloader:
    """Downloads the files of one pinned version."""

    def __init__(self, transport: Transport, version_path: str, connections: Connections) -> None:
        self.transport = transport
        self.version_path = version_path
        self.connections = connections

    def download(self, entry: FileEntry, target: Target, replace: bool, report: Callable[[int], None],
                 local: Optional[str] = None) -> Tuple[int, int, int]:
        """Downloads one file to ``local`` (a path in ``target``; default: the entry's path); returns ``(bytes fetched
        now, bytes resumed from a partial file, bytes discarded)``."""
        local = local or entry.path
        name = local.split("/")[-1]
        partial_name = name + PARTIAL_SUFFIX
        with target.parent(local, replace) as (dir_fd, folder):
            partial = partial_name if dir_fd is not None else os.path.join(folder, partial_name)
            fd = self._open_partial(partial, dir_fd, os.path.join(folder, partial_name))
            verified = keep = False
            resumed = discarded = 0
            try:
                if sys.platform != "win32":
                    import fcntl

                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise errors.BerthError("pull_busy", f"Another pull is writing '{os.path.join(folder, partial_name)}'.") from None
                have = os.fstat(fd).st_size
                if have > entry.size:
                    discarded, have = have, 0
                    os.ftruncate(fd, 0)
                digest = hashlib.sha256()
                if have > 0:
                    _hash_prefix(fd, have, digest)
                    resumed = have
                    report(have)
                while True:
                    have, digest, restarted = self._fetch(entry, fd, have, digest, report)
                    if restarted:
                        resumed = 0
                    problem = None
                    if have != entry.size:
                        problem = f"'{entry.path}' has {have} bytes, not the {entry.size} the manifest lists"
                    elif "sha256:" + digest.hexdigest() != entry.digest:
                        problem = f"'{entry.path}' hashes to sha256:{digest.hexdigest()}, not {entry.digest}"
                    if problem is None:
                        verified = True
                        break
                    if resumed > 0:
                        # The part kept from an earlier pull was wrong: fetch the whole file again, once.
                        report(-have)
                        discarded, resumed, have = resumed, 0, 0
                        os.ftruncate(fd, 0)
                        digest = hashlib.sha256()
                        continue
                    raise errors.DigestMismatch(
                        "digest_mismatch", f"{problem}: the download was corrupted and has been discarded.",
                        extensions={"path": entry.path, "expected": entry.digest})
            except errors.DigestMismatch:
                keep = False
                raise
            except BaseException:
                keep = os.fstat(fd).st_size > 0
                raise
            finally:
                os.close(fd)
                if not verified and not keep:
                    with contextlib.suppress(FileNotFoundError):
                        if dir_fd is not None:
                            os.unlink(partial, dir_fd=dir_fd)
                        else:
                            os.remove(partial)
            if dir_fd is not None:
                os.replace(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:
                os.replace(partial, os.path.join(folder, name))
            return entry.size - resumed, resumed, discarded

    @staticmethod
    def _open_partial(partial: str, dir_fd: Optional[int], shown: str) -> int:
        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _BINARY
        for _ in range(3):
            try:
                if dir_fd is not None:
                    fd = os.open(partial, flags, 0o666, dir_fd=dir_fd)
                else:
                    if _kind(partial) in ("link", "folder", "special file"):
                        raise IsADirectoryError(errno.EISDIR, "not a file", partial)
                    fd = os.open(partial, flags, 0o666)
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    return fd
                os.close(fd)
                raise IsADirectoryError(errno.EISDIR, "not a file", partial)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EMLINK) and not isinstance(e, IsADirectoryError):
                    raise
                # Not something a pull left (a link, a folder …): remove it, never write through it.
                _remove(shown)
        raise OSError(f"'{shown}' kept changing while it was being opened.")

    def _fetch(self, entry: FileEntry, fd: int, have: int, digest: "hashlib._Hash", report: Callable[[int], None]) -> Tuple[int, "hashlib._Hash", bool]:
        """Downloads from ``have`` to the end, with retries; returns ``(bytes in the file, hash, started over)``."""
        restarted = False
        for attempt in range(1, MAX_DOWNLOAD_ATTEMPTS + 1):
            if have >= entry.size:
                return have, digest, restarted
            headers = {"Accept": "application/octet-stream"}
            if have > 0:
                headers["Range"] = f"bytes={have}-"
                headers["If-Range"] = f'"{entry.digest}"'
            sink: Optional[_Sink] = None
            try:
                response = self.transport.request("GET", f"{self.version_path}/files/{_file_path(entry.path)}", headers=headers,
                                                  stream=True, on_connection=self.connections.tracker())
                try:
                    if have > 0 and response.status != 206:
                        # The server sent the whole file: start over.
                        report(-have)
                        os.ftruncate(fd, 0)
                        digest = hashlib.sha256()
                        have = 0
                        restarted = True
                    sink = _Sink(fd, have, digest)
                    while True:
                        buffer = sink.buffer()
                        n = response.readinto(buffer)
                        if not n:
                            sink.give_back(buffer)
                            break
                        sink.feed(buffer, n)
                        report(n)
                finally:
                    response.close()
                digest = sink.close()
                have = sink.written
                if have < entry.size:
                    raise errors.ConnectionFailed("connection_failed", f"The download of '{entry.path}' ended after {have} of {entry.size} bytes.")
            except BaseException as e:
                if sink is not None:
                    with contextlib.suppress(BaseException):
                        sink.close()
                    digest, have = sink.digest, sink.written  # the hash covers exactly the bytes written
                os.ftruncate(fd, have)
                if attempt >= MAX_DOWNLOAD_ATTEMPTS or not is_retryable(e) or self.connections.stopped.is_set():
                    raise
                time.sleep(backoff(attempt))
        return have, digest, restarted


def _hash_prefix(fd: int, length: int, digest: "hashlib._Hash") -> None:
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    os.lseek(fd, 0, os.SEEK_SET)
    position = 0
    while position < length:
        n = os.readv(fd, [view[: min(_CHUNK, length - position)]]) if hasattr(os, "readv") else _read_into(fd, view, min(_CHUNK, length - position))
        if n == 0:
            raise OSError(f"A partial download ended after {position} of {length} bytes while it was read.")
        digest.update(view[:n])
        position += n


def _read_into(fd: int, view: memoryview, count: int) -> int:
    data = os.read(fd, count)
    view[: len(data)] = data
    return len(data)


def _file_path(path: str) -> str:
    return "/".join(segment(p) for p in path.split("/"))


def pull(transport: Transport, version: Version, version_path: str, destination: str, *, force: bool, parallelism: int,
         progress: Progress) -> PullResult:
    """Pulls a resolved version (``files`` filled) into ``destination`` (see :meth:`berth.Client.pull`)."""
    clock = time.monotonic()
    files = version.files or []
    if manifest_digest(files) != version.manifest_digest:
        raise errors.DigestMismatch("digest_mismatch", f"The file list of {version.reference} does not match its manifest digest {version.manifest_digest}.")
    target = Target(destination)
    warnings: List[PullWarning] = []
    for f in files:
        check_path(f.path)
        why = risky(f.path)
        if why:
            warnings.append(PullWarning("risky_path", f.path, f"'{f.path}' is dangerous to materialise: {why}."))

    # Look before writing anything: what is already there, identical or in the way.
    conflicts: Dict[str, str] = {}
    todo: List[FileEntry] = []
    unchanged = 0
    to_hash: List[FileEntry] = []
    for f in files:
        kind, blocker, blocker_kind = target.inspect(f.path)
        if blocker is not None:
            conflicts.setdefault(blocker, f"{_describe(blocker_kind)} where the version has a folder (of '{f.path}')")
            todo.append(f)
        elif kind == "missing":
            todo.append(f)
        elif kind != "file":
            conflicts.setdefault(f.path, f"{_describe(kind)} where the version has a file")
            todo.append(f)
        elif os.lstat(target.full(f.path)).st_size != f.size:
            conflicts.setdefault(f.path, f"differs: {os.lstat(target.full(f.path)).st_size} bytes, the version's file has {f.size}")
            todo.append(f)
        else:
            to_hash.append(f)
    if to_hash:
        progress.start("hashing", sum(f.size for f in to_hash), len(to_hash))
        for f in to_hash:
            same = f.digest == _EMPTY if f.size == 0 else _hash_existing(target.full(f.path), progress) == f.digest
            if same:
                unchanged += 1
            else:
                conflicts.setdefault(f.path, "differs: same size, other content (SHA-256)")
                todo.append(f)
            progress.file_done()
    if conflicts and not force:
        raise errors.PullConflict(target.root, version.reference, sorted(conflicts.items()))

    # A folder where a file goes is removed now (a rename cannot replace it); files and links in the way are
    # replaced by the rename that ends each download, parents by Target.parent.
    for f in todo:
        if _kind(target.full(f.path)) == "folder" and target.inspect(f.path)[1] is None:
            _remove(target.full(f.path))

    os.makedirs(target.root, exist_ok=True)
    connections = Connections()
    downloader = Downloader(transport, version_path, connections)
    totals = [0, 0]
    lock = threading.Lock()
    if todo:
        progress.start("downloading", sum(f.size for f in todo), len(todo))

        def one(f: FileEntry) -> None:
            fetched, resumed, discarded = downloader.download(f, target, force, progress.add)
            with lock:
                totals[0] += fetched
                totals[1] += resumed
                if discarded:
                    warnings.append(PullWarning(
                        "partial_discarded", f.path,
                        f"the partial download of '{f.path}' ({discarded} bytes, left by an earlier pull) did not verify: "
                        "it was discarded and the file downloaded again."))
            progress.file_done()

        pool = ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="berth-pull")
        try:
            futures = [pool.submit(one, f) for f in todo]
            first: Optional[BaseException] = None
            for future in futures:
                error = future.exception()
                if error is not None and first is None:
                    first = error
            if first is not None:
                raise first
        except BaseException:
            connections.stop()  # interrupted (or failed): break the other downloads off; their partial files stay
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    progress.start("done", 0, 0)
    progress.finish()
    return PullResult(version, target.root, len(todo), unchanged, totals[0], totals[1], warnings, time.monotonic() - clock)


def _hash_existing(full: str, progress: Progress) -> str:
    from ._files import hash_file

    fd = os.open(full, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _BINARY)
    os.close(fd)  # refuses a link that appeared since the look
    return hash_file(full, progress.add if progress.enabled else None)
