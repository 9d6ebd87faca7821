"""Local files: scanning a model folder, hashing, the canonical manifest, and the CLI's shared caches."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import sys
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set

PARTIAL_SUFFIX = ".berth-partial"
MEDIA_TYPE = "application/vnd.berth.manifest.v1+json"
_CHUNK = 1024 * 1024
_EPOCH_TICKS = 621_355_968_000_000_000  # .NET ticks (100 ns since 0001-01-01) at the Unix epoch
_RACY_TICKS = 2 * 10_000_000  # a digest is trusted only if recorded 2 s after the file's last write


@dataclass(frozen=True)
class LocalFile:
    """A file to push: its path in the version (NFC, ``/``-separated), where it is, size and modification time."""

    path: str
    full_path: str
    size: int
    mtime_ticks: int


def _ticks(stat: os.stat_result) -> int:
    return _EPOCH_TICKS + stat.st_mtime_ns // 100


def scan(source: str) -> List[LocalFile]:
    """The files of a folder (or one file), sorted as the manifest sorts them.

    Symbolic links are followed (model folders such as Hugging Face snapshots are made of them), with loop
    protection; ``.git`` folders and partial downloads are left out.
    """
    full = os.path.abspath(source)
    if os.path.isfile(full):
        st = os.stat(full)
        return [LocalFile(nfc(os.path.basename(full)), full, st.st_size, _ticks(st))]
    if not os.path.isdir(full):
        raise FileNotFoundError(f"'{source}' is neither a file nor a folder.")
    files: List[LocalFile] = []
    _walk(full, "", files, set())
    files.sort(key=lambda f: sort_key(f.path))
    return files


def _walk(directory: str, prefix: str, files: List[LocalFile], visited: Set[str]) -> None:
    real = os.path.realpath(directory)
    if real in visited:
        return
    visited.add(real)
    with os.scandir(directory) as entries:
        for entry in entries:
            path = prefix + nfc(entry.name)
            full = os.path.join(directory, entry.name)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                continue
            if is_dir:
                if entry.name != ".git":
                    _walk(full, path + "/", files, visited)
            elif not entry.name.endswith(PARTIAL_SUFFIX):
                try:
                    st = os.stat(full)
                except OSError:
                    continue  # a dangling link
                files.append(LocalFile(path, full, st.st_size, _ticks(st)))


def nfc(name: str) -> str:
    """The name in Unicode normalisation form C, as the server requires paths."""
    return unicodedata.normalize("NFC", name)


def sort_key(path: str) -> bytes:
    """Ordinal order of UTF-16 code units, the order of .NET's ``StringComparer.Ordinal`` (the manifest's order)."""
    return path.encode("utf-16-be", "surrogatepass")


def _escape(text: str) -> str:
    # System.Text.Json's default encoder: only printable ASCII other than " & ' + < > \ ` stays as it is.
    out = []
    for ch in text:
        code = ord(ch)
        if 0x20 <= code < 0x7F and ch not in "\"&'+<>\\`":
            out.append(ch)
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif code > 0xFFFF:
            code -= 0x10000
            out.append("\\u%04X\\u%04X" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
        else:
            out.append("\\u%04X" % code)
    return '"' + "".join(out) + '"'


def manifest_bytes(files: Sequence[Any]) -> bytes:
    """The canonical manifest of files with ``path``, ``size``, ``digest`` (and optional ``media_type``), byte for
    byte as the server writes it: its SHA-256 is the version's manifest digest."""
    parts = []
    for f in sorted(files, key=lambda f: sort_key(f.path)):
        item = '{"path":%s,"size":%d,"digest":%s' % (_escape(f.path), f.size, _escape(f.digest))
        media = getattr(f, "media_type", None)
        if media is not None:
            item += ',"mediaType":%s' % _escape(media)
        parts.append(item + "}")
    return ('{"schemaVersion":1,"mediaType":%s,"files":[%s]}' % (_escape(MEDIA_TYPE), ",".join(parts))).encode("utf-8")


def manifest_digest(files: Sequence[Any]) -> str:
    """``sha256:<hex>`` of :func:`manifest_bytes`."""
    return "sha256:" + hashlib.sha256(manifest_bytes(files)).hexdigest()


def hash_file(path: str, progress: Optional[Callable[[int], None]] = None, stop: Optional[threading.Event] = None) -> str:
    """``sha256:<hex>`` of a file, read in 1 MiB blocks (hashlib releases the GIL, so threads hash in parallel)."""
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        _advise_sequential(f.fileno())
        while True:
            n = f.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
            if progress:
                progress(n)
            if stop is not None and stop.is_set():
                raise InterruptedError("stopped")
    return "sha256:" + digest.hexdigest()


def _advise_sequential(fd: int) -> None:
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)


# ---- the CLI's cache files (shared with every running berth and Python client) --------------------------------


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock``: the lock the CLI takes (flock), released by the OS if the process dies."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform != "win32":
            import fcntl

            deadline = time.monotonic() + 30
            attempt = 0
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    attempt += 1
                    if time.monotonic() > deadline:
                        raise OSError(f"'{path}.lock' stayed locked by another process for 30 s.")
                    time.sleep(min(0.1, 0.005 * attempt) * (0.5 + random.random()))
        yield
    finally:
        os.close(fd)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, "r", encoding="utf-8") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None  # missing or damaged: a cache only costs work


def _update_json(path: str, change: Callable[[Dict[str, Any]], None]) -> None:
    with _locked(path):
        content = _read_json(path) or {}
        change(content)
        temporary = f"{path}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "x", encoding="utf-8") as f:
                json.dump(content, f, separators=(",", ":"))
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)


class DigestCache:
    """The CLI's digest cache (``digests.json``): full path → size, modification time and digest.

    An entry counts only for a file with the same size and modification time, recorded at least two seconds after
    that time (a file rewritten within one timestamp tick is always hashed again). Saving merges the new entries
    into what is on disk under the CLI's file lock, so concurrent ``berth`` and Python pushes share it.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._entries = _read_json(path) or {}
        self._changed: Dict[str, Dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, f: LocalFile) -> Optional[str]:
        """The cached digest of a file, or ``None``."""
        entry = self._entries.get(f.full_path)
        if not isinstance(entry, dict):
            return None
        try:
            ok = (entry["Size"] == f.size and entry["LastWriteTicks"] == f.mtime_ticks
                  and entry["RecordedTicks"] - entry["LastWriteTicks"] >= _RACY_TICKS)
        except (KeyError, TypeError):
            return None
        digest = entry.get("Digest")
        return digest if ok and isinstance(digest, str) and digest.startswith("sha256:") and len(digest) == 71 else None

    def set(self, f: LocalFile, digest: str) -> None:
        """Records a digest computed now."""
        entry = {"Size": f.size, "LastWriteTicks": f.mtime_ticks, "RecordedTicks": _EPOCH_TICKS + time.time_ns() // 100, "Digest": digest}
        with self._lock:
            self._entries[f.full_path] = entry
            self._changed[f.full_path] = entry

    def forget(self, f: LocalFile) -> None:
        """Drops a file's entry at once (its digest turned out wrong), so the next push hashes it again."""
        with self._lock:
            self._entries.pop(f.full_path, None)
            self._changed.pop(f.full_path, None)
        _update_json(self.path, lambda content: content.pop(f.full_path, None))

    def save(self) -> None:
        """Writes the new entries (merged with what other processes saved meanwhile)."""
        with self._lock:
            changes, self._changed = self._changed, {}
        if changes:
            _update_json(self.path, lambda content: content.update(changes))


class ResumeStore:
    """The CLI's open uploads (``uploads.json``): a key naming server, model and file → the upload's location."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self, key: str) -> Optional[str]:
        """The location remembered for a key."""
        value = (_read_json(self.path) or {}).get(key)
        return value if isinstance(value, str) else None

    def set(self, key: str, location: str) -> None:
        """Remembers a location."""
        _update_json(self.path, lambda content: content.__setitem__(key, location))

    def remove(self, key: str) -> None:
        """Forgets a key."""
        if self.get(key) is not None:
            _update_json(self.path, lambda content: content.pop(key, None))
