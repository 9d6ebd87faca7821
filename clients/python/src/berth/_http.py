"""HTTP for the client: keep-alive connections shared by threads, problem answers raised as exceptions."""

from __future__ import annotations

import errno
import io
import http.client
import json
import os
import random
import select
import socket
import ssl
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

from . import errors

__all__ = ["Connections", "Transport", "Response", "segment", "query_string", "is_retryable", "backoff", "send_file"]

API = "/api/v1/"
_CHUNK = 1024 * 1024

QueryValue = Union[str, int, float, bool, None, Iterable[str]]


def segment(value: str) -> str:
    """One path segment, percent-encoded (``/`` and ``:`` too), as the C# SDK's ``Uri.EscapeDataString``."""
    return quote(value, safe="-_.~")


def query_string(params: Optional[Mapping[str, QueryValue]]) -> str:
    """``?a=1&b=2`` of the parameters that are not ``None`` (a list repeats its name); ``""`` when none."""
    if not params:
        return ""
    pairs: List[Tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, (str, int, float)):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(v)) for v in value)
    return "?" + urlencode(pairs, quote_via=quote, safe="-_.~") if pairs else ""


def is_retryable(error: BaseException) -> bool:
    """Whether a failed transfer or idempotent call is worth trying again (broken connections, 5xx, busy uploads)."""
    if isinstance(error, errors.BerthError):
        if isinstance(error, errors.ConnectionFailed):
            return True
        if error.status is not None and error.status >= 500:
            return error.code != "insufficient_storage"
        return error.code in ("upload_offset_mismatch", "upload_busy")
    return isinstance(error, (OSError, http.client.HTTPException))


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: 0.25 s doubling to 8 s, randomised by ±25 %."""
    return float(min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.75 + random.random() / 2))


class Response:
    """An answer whose body is either read (:attr:`data`) or still streaming (:meth:`readinto`, :meth:`readline`)."""

    def __init__(self, transport: "Transport", conn: http.client.HTTPConnection, raw: http.client.HTTPResponse, data: Optional[bytes],
                 on_connection: Optional[Callable[[Optional[http.client.HTTPConnection]], None]] = None):
        self._transport = transport
        self._on_connection = on_connection
        self._conn: Optional[http.client.HTTPConnection] = conn
        self.raw = raw
        self.status: int = raw.status
        self.headers = raw.headers
        self.data = data
        self._direct: Optional[bool] = None  # body read straight from the socket (see readinto)
        self._left = 0

    def json(self) -> Any:
        """The body as JSON."""
        if self.data is None:
            self.data = self.raw.read()
        return json.loads(self.data.decode("utf-8")) if self.data else None

    def header(self, name: str) -> Optional[str]:
        """One header's value, or ``None``."""
        return self.headers.get(name)

    def readinto(self, buffer: Any) -> int:
        """Reads body bytes into ``buffer`` (filling it, except at the end); 0 at the end.

        A body of known length on a plain socket is read straight from the socket into ``buffer`` with
        ``MSG_WAITALL``, one system call per buffer (http.client's reader needs several per megabyte, which
        costs a pull a third of its speed); the socket is blocking meanwhile, with the transfer timeout as
        ``SO_RCVTIMEO``.
        """
        if self._direct is None:
            self._direct = self._start_direct()
            if self._direct:
                # Whatever http.client's reader holds already comes first.
                view = memoryview(buffer)
                first = self.raw.fp.read1(min(len(view), self._left)) if self._left else b""
                view[: len(first)] = first
                self._left -= len(first)
                if self._left == 0 or len(first) == len(view):
                    return len(first)
                return len(first) + self.readinto(view[len(first):])
        if not self._direct:
            return self.raw.readinto(buffer)
        if self._left == 0:
            return 0
        sock = self._conn.sock if self._conn is not None else None
        if sock is None:
            raise ConnectionResetError("The connection is closed.")
        view = memoryview(buffer)[: self._left]
        n = sock.recv_into(view, len(view), socket.MSG_WAITALL)
        if n == 0:
            raise http.client.IncompleteRead(b"", self._left)
        self._left -= n
        return n

    def _start_direct(self) -> bool:
        conn, raw = self._conn, self.raw
        sock = conn.sock if conn is not None else None
        if (sock is None or isinstance(sock, ssl.SSLSocket) or raw.chunked or raw.length is None
                or sys.platform == "win32" or not hasattr(socket, "MSG_WAITALL")):
            return False
        try:
            timeout = sock.gettimeout() or self._transport.transfer_timeout
            sock.settimeout(None)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(timeout), 0))
        except (OSError, struct.error):
            return False
        self._left = raw.length
        return True

    def readline(self) -> bytes:
        """One line of the body (with its newline); ``b""`` at the end."""
        return self.raw.readline()

    def close(self) -> None:
        """Gives the connection back for reuse when the body was read to its end, else closes it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._on_connection is not None:
            self._on_connection(None)
        if self._direct and self._left == 0 and not self.raw.will_close and conn.sock is not None:
            # Read to its end straight from the socket: reusable once it has its timeout back.
            self.raw.close()
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 0))
            conn.sock.settimeout(self._transport.transfer_timeout)
            self._transport._release(conn)
        elif not self._direct and self.raw.isclosed() and not self.raw.will_close:
            self._transport._release(conn)
        else:
            self.raw.close()
            conn.close()

    def abort(self) -> None:
        """Breaks the connection at once (from any thread), e.g. to stop a stream that is waiting for data."""
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Connections:
    """The connections of a push's requests, so that stopping the push breaks them all at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: Set[Any] = set()
        self.stopped = threading.Event()

    def tracker(self) -> Callable[[Any], None]:
        """A callback for one request: it registers its connection while the request runs."""
        current: List[Any] = [None]

        def track(conn: Any) -> None:
            with self._lock:
                if current[0] is not None:
                    self._active.discard(current[0])
                current[0] = conn
                if conn is not None:
                    if self.stopped.is_set():
                        _shutdown(conn)
                    self._active.add(conn)

        return track

    def stop(self) -> None:
        """Breaks every running request (and every later one)."""
        with self._lock:
            self.stopped.set()
            for conn in self._active:
                _shutdown(conn)


def _shutdown(conn: Any) -> None:
    if conn.sock is not None:
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


BodyWriter = Callable[[http.client.HTTPConnection], None]


class Transport:
    """Sends requests to one server over a pool of keep-alive connections; safe to share between threads."""

    def __init__(self, base_url: str, token: Optional[str], user_agent: str, timeout: float, transfer_timeout: float) -> None:
        parts = urlsplit(base_url)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        netloc_host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = (self.scheme == "https" and self.port == 443) or (self.scheme == "http" and self.port == 80)
        self.base_url = f"{self.scheme}://{netloc_host}{'' if default_port else f':{self.port}'}{self.prefix}/"
        self._token = token
        self.user_agent = user_agent
        self.timeout = timeout
        self.transfer_timeout = transfer_timeout
        self._idle: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._ssl = ssl.create_default_context() if self.scheme == "https" else None

    # ---- connections -------------------------------------------------------------------------------------

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._ssl is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.connect()
        except OSError as e:
            conn.close()
            raise errors.ConnectionFailed("connection_failed", f"Cannot reach the Berth server at {self.base_url}: {e}.") from e
        assert conn.sock is not None
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return conn

    def _take(self, timeout: float) -> Tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            return self._connect(timeout), False
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn, True

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < 32:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Closes every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # ---- requests ----------------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """The request target of an API path (``models/acme``) or of a path the server gave (``/api/v1/…``)."""
        if path.startswith("/"):
            return self.prefix + path if self.prefix and not path.startswith(self.prefix + "/") else path
        return self.prefix + API + path

    def headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """The headers every request carries, plus ``extra``."""
        result = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if self._token:
            result["Authorization"] = f"Bearer {self._token}"
        if extra:
            result.update(extra)
        return result

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, QueryValue]] = None,
        json_body: Any = None,
        body: Optional[bytes] = None,
        writer: Optional[BodyWriter] = None,
        length: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None,
        stream: bool = False,
        timeout: Optional[float] = None,
        on_connection: Optional[Callable[[Optional[http.client.HTTPConnection]], None]] = None,
    ) -> Response:
        """Sends one request and returns the answer; raises :class:`~berth.BerthError` for error answers.

        ``writer`` sends a body of ``length`` bytes itself (uploads); ``stream`` leaves the answer's body unread
        (close the :class:`Response`). A reused keep-alive connection that the server had closed is replaced
        once, transparently, unless the body was a ``writer``'s. ``on_connection`` sees the connection while the
        request runs (and ``None`` after), so another thread can break it.
        """
        target = self.url(path) + query_string(query)
        all_headers = self.headers(headers)
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        if body is not None:
            all_headers["Content-Length"] = str(len(body))
        elif writer is not None:
            all_headers["Content-Length"] = str(length if length is not None else 0)
        elif method in ("POST", "PUT", "PATCH"):
            all_headers["Content-Length"] = "0"
        wait = timeout if timeout is not None else (self.transfer_timeout if stream or writer else self.timeout)
        expect = writer is not None and self._ssl is None and (length or 0) >= _EXPECT_THRESHOLD
        if expect:
            all_headers["Expect"] = "100-continue"
        for attempt in (1, 2):
            conn, reused = self._take(wait)
            if on_connection:
                on_connection(conn)
            try:
                conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
                for name, value in all_headers.items():
                    conn.putheader(name, value)
                if body is not None and len(body) <= 64 * 1024:
                    conn.endheaders(body)
                else:
                    conn.endheaders()
                    if body is not None:
                        conn.send(body)
                    elif writer is not None and (not expect or _continue(conn)):
                        writer(conn)
                    elif writer is not None:
                        # The server answered before the body (busy, offset mismatch, too large …): read that answer
                        # and drop the connection, whose request body was never sent.
                        raw = conn.getresponse()
                        raw.will_close = True
                        return self._answer(conn, raw, stream, on_connection)
                raw = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as e:
                conn.close()
                if on_connection:
                    on_connection(None)
                if reused and writer is None and attempt == 1:
                    continue
                raise errors.ConnectionFailed("connection_failed", f"The connection to {self.base_url} broke: {e!r}.") from e
            except BaseException:
                conn.close()
                if on_connection:
                    on_connection(None)
                raise
            return self._answer(conn, raw, stream, on_connection)
        raise AssertionError("unreachable")

    def _answer(self, conn: http.client.HTTPConnection, raw: http.client.HTTPResponse, stream: bool,
                on_connection: Optional[Callable[[Optional[http.client.HTTPConnection]], None]]) -> Response:
        try:
            if raw.status >= 400 or not stream:
                data = raw.read()
                response = Response(self, conn, raw, data)
                if on_connection:
                    on_connection(None)
                response.close()
                if raw.status >= 400:
                    raise errors.from_response(raw.status, raw.reason, data)
                return response
            return Response(self, conn, raw, None, on_connection)
        except errors.BerthError:
            raise
        except BaseException as e:
            conn.close()
            if on_connection:
                on_connection(None)
            if isinstance(e, (OSError, http.client.HTTPException)):
                raise errors.ConnectionFailed("connection_failed", f"The answer from {self.base_url} broke off: {e!r}.") from e
            raise

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON call: the answer's body as JSON (``None`` when empty)."""
        return self.request(method, path, **kwargs).json()

    def call_retrying(self, method: str, path: str, attempts: int = 4, **kwargs: Any) -> Any:
        """An idempotent JSON call, retried on broken connections and 5xx answers."""
        for attempt in range(1, attempts + 1):
            try:
                return self.call(method, path, **kwargs)
            except BaseException as e:
                if attempt >= attempts or not is_retryable(e) or (
                    isinstance(e, errors.BerthError) and e.code in ("upload_offset_mismatch", "upload_busy")):
                    raise
                time.sleep(backoff(attempt))
        raise AssertionError("unreachable")


_EXPECT_THRESHOLD = 1024 * 1024
_CONTINUE_WAIT = 3.0


def _continue(conn: http.client.HTTPConnection) -> bool:
    """After headers with ``Expect: 100-continue``: whether to send the body. True once the server said
    ``100 Continue`` (which is consumed here) or said nothing within a few seconds; False when its final answer
    came instead, so that a large body is not sent only to be refused."""
    sock = conn.sock
    assert sock is not None
    deadline = time.monotonic() + _CONTINUE_WAIT
    seen = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return True
        try:
            seen = sock.recv(4096, socket.MSG_PEEK)
        except BlockingIOError:
            continue
        if not seen:
            return False  # the server closed the connection: getresponse reports it
        if len(seen) >= 12 and not seen[9:12] == b"100":
            return False
        if len(seen) >= 12:
            end = seen.find(b"\r\n\r\n")
            if end >= 0:
                _receive_exactly(sock, end + 4)
                return True
        time.sleep(0.001)  # a status line cut in two: wait for the rest


def _receive_exactly(sock: socket.socket, count: int) -> None:
    while count > 0:
        chunk = sock.recv(count)
        if not chunk:
            raise ConnectionResetError("The connection closed during 100 Continue.")
        count -= len(chunk)


def send_file(conn: http.client.HTTPConnection, file: io.RawIOBase, offset: int, count: int, progress: Optional[Callable[[int], None]]) -> None:
    """Sends ``count`` bytes of ``file`` (opened unbuffered for reading) from ``offset`` as (part of) the request body.

    Plain sockets use ``sendfile`` (the kernel copies; nothing passes through Python); TLS sockets, and systems
    without ``sendfile``, read and send 1 MiB at a time.
    """
    sock = conn.sock
    assert sock is not None
    end = offset + count
    if not isinstance(sock, ssl.SSLSocket) and hasattr(os, "sendfile"):
        wait = sock.gettimeout()
        while offset < end:
            try:
                sent = os.sendfile(sock.fileno(), file.fileno(), offset, min(8 * _CHUNK, end - offset))
            except BlockingIOError:
                # A socket with a timeout is non-blocking underneath: wait until it takes more.
                _, ready, _ = select.select([], [sock], [], wait)
                if not ready:
                    raise socket.timeout("The server took no data for too long.")
                continue
            except OSError as e:
                if e.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP) and offset == end - count:
                    break  # this file or socket cannot be sent with sendfile: fall back to reading
                raise
            if sent == 0:
                raise OSError(f"The file ended {end - offset} bytes early (it changed while it was being sent).")
            offset += sent
            if progress:
                progress(sent)
        if offset >= end:
            return
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    file.seek(offset)
    while offset < end:
        n = file.readinto(view[: min(_CHUNK, end - offset)])
        if not n:
            raise OSError(f"The file ended {end - offset} bytes early (it changed while it was being sent).")
        sock.sendall(view[:n])
        offset += n
        if progress:
            progress(n)
