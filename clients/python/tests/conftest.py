"""Test support: a real ``berth serve`` for the session, an isolated environment for each test, a breakable proxy."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
sys.path.insert(0, str(HERE.parent / "src"))

import berth  # noqa: E402


def _berth_dll() -> str:
    explicit = os.environ.get("BERTH_CLI_DLL")
    path = Path(explicit) if explicit else REPO / "src" / "Berth.Cli" / "bin" / "Release" / "net10.0" / "berth.dll"
    if not path.is_file():
        raise RuntimeError(f"berth.dll was not found at {path}: build src/Berth.Cli (dotnet build src/Berth.Cli -c Release) or set BERTH_CLI_DLL.")
    return str(path)


def _dotnet() -> str:
    host = os.environ.get("DOTNET_HOST_PATH")
    if host and os.path.isfile(host):
        return host
    found = shutil.which("dotnet")
    if not found:
        raise RuntimeError("The dotnet host is needed to run berth.dll; install the .NET SDK or set DOTNET_HOST_PATH.")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A ``berth serve`` process on 127.0.0.1 and a free port, over a temporary data folder."""

    def __init__(self, root: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.root = root
        self.env = env or {}
        self.data = root / "data"
        self.log = root / "server.log"
        self.process: Optional[subprocess.Popen] = None
        self.url = ""
        self.token = ""

    def _spawn(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [_dotnet(), _berth_dll(), "serve", "--data", str(self.data), "--urls", self.url, "--no-fsync"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "DOTNET_NOLOGO": "1", "DOTNET_CLI_TELEMETRY_OPTOUT": "1", **self.env})

    def start(self) -> None:
        for attempt in range(1, 4):
            self.url = f"http://127.0.0.1:{free_port()}"
            self._spawn()
            if self._wait_healthy():
                self.token = (self.data / "admin-token").read_text().strip()
                return
            self.stop()
            if attempt == 3 or "address already in use" not in self.log.read_text(errors="replace").lower():
                raise RuntimeError(f"berth serve did not become healthy at {self.url}:\n{self.log.read_text(errors='replace')[-4000:]}")

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and (self.data / "admin-token").exists():
                        return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """Kills the server process at once (SIGKILL), as a crash or an out-of-memory kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Starts the server again on the same data folder and address (after :meth:`kill` or :meth:`stop`)."""
        self._spawn()
        if not self._wait_healthy():
            raise RuntimeError(f"berth serve did not come back at {self.url}:\n{self.log.read_text(errors='replace')[-4000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cli(self, *args: str, env: Optional[Dict[str, str]] = None, input: Optional[str] = None) -> subprocess.CompletedProcess:
        """Runs the ``berth`` CLI (the same build) with ``args``; ``env`` is the whole environment to use."""
        return subprocess.run([_dotnet(), _berth_dll(), *args], capture_output=True, text=True, input=input, timeout=300,
                              env={**(env if env is not None else os.environ), "DOTNET_NOLOGO": "1"})

    def blob_path(self, digest: str) -> Path:
        """Where the server keeps a blob's bytes (docs/storage-layout.md)."""
        hex_digest = digest.split(":", 1)[1]
        return self.data / "store" / "blobs" / "sha256" / hex_digest[:2] / hex_digest


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    root = Path(tempfile.mkdtemp(prefix="berth-python-tests-"))
    instance = Server(root)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No saved login, cache or environment of the machine leaks into a test."""
    for name in ("BERTH_URL", "BERTH_TOKEN", "BERTH_NAMESPACE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BERTH_CONFIG", str(tmp_path / "config" / "config.json"))
    monkeypatch.setenv("BERTH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def client(server: Server) -> Iterator[berth.Client]:
    with berth.Client(server.url, token=server.token) as c:
        yield c


@pytest.fixture
def ns() -> str:
    """A namespace of the test's own (the administrator creates it by pushing into it)."""
    return "t" + uuid.uuid4().hex[:12]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def tree(root: Path) -> Dict[str, bytes]:
    """Every file below ``root`` by its ``/``-separated path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class BreakingProxy:
    """A TCP proxy to the server that can break its connections: after ``cut_after`` bytes sent upstream in one
    connection (once), all at once with :meth:`break_all`, or instead of passing on the next ``drop_answers``
    answers (the request reached the server, the answer is lost). Counts the bytes it forwarded upstream."""

    def __init__(self, target_url: str, cut_after: Optional[int] = None) -> None:
        self.drop_answers = 0
        self.answers_dropped = 0
        host_port = target_url.split("//", 1)[1]
        host, port = host_port.split(":")
        self.target = (host, int(port))
        self.cut_after = cut_after
        self.upstream_bytes = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [downstream, upstream]
            threading.Thread(target=self._pump, args=(downstream, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, downstream, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(256 * 1024)
                if not data:
                    break
                if not up:
                    with self._lock:
                        drop = self.drop_answers > 0
                        if drop:
                            self.drop_answers -= 1
                            self.answers_dropped += 1
                    if drop:
                        self._break(source, sink)
                        return
                if up:
                    with self._lock:
                        cut = self.cut_after is not None and sent + len(data) > self.cut_after
                        if cut:
                            data = data[: self.cut_after - sent]
                            self.cut_after = None
                            self.cuts += 1
                        self.upstream_bytes += len(data)
                    sent += len(data)
                    if cut:
                        sink.sendall(data)
                        self._break(source, sink)
                        return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._break(source, sink)

    @staticmethod
    def _break(*sockets: socket.socket) -> None:
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def break_all(self) -> None:
        """Breaks every open connection (the proxy keeps accepting new ones)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
            self.cuts += 1
        self._break(*sockets)

    def close(self) -> None:
        """Stops accepting (new connections are refused) and breaks every open one."""
        self._closed = True
        _stop_listening(self._listener)
        self.break_all()


class BlackHole:
    """A server that accepts connections and reads what is sent, but never answers: a request to it hangs until the
    client gives up. :attr:`received` is set once a request's bytes arrived."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.received = threading.Event()
        self.bytes = 0
        self._sockets: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            while True:
                data = conn.recv(256 * 1024)
                if not data:
                    return
                self.bytes += len(data)
                self.received.set()
        except OSError:
            pass

    def close(self) -> None:
        _stop_listening(self._listener)
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def _stop_listening(listener: socket.socket) -> None:
    """Closes a listening socket so that connecting is refused at once. A plain close() would not: the thread blocked
    in accept() keeps the socket listening, and connections would wait in its backlog for an answer that never comes."""
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    listener.close()
