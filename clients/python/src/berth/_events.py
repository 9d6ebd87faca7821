"""The live event stream (Server-Sent Events) as an iterator that reconnects by itself."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any, Dict, Iterator, List

from . import errors
from ._http import Response, Transport
from .types import Event

MAX_FAILURES = 10


def stream(transport: Transport, since: int, query: Dict[str, Any], read_timeout: float) -> Iterator[Event]:
    """Events after ``since``, as they commit, forever. A dropped connection (or one silent for longer than
    ``read_timeout``: the server sends a comment every 15 s) is reopened after the last event received, so none is
    missed or repeated. Errors the server answers (401, 403, 404 …) are raised; so is a server that stays
    unreachable through ten attempts in a row."""
    cursor = since
    failures = 0
    while True:
        params = dict(query)
        params["since"] = cursor
        try:
            response: Response = transport.request(
                "GET", "events/stream", query=params, stream=True, timeout=read_timeout,
                headers={"Accept": "text/event-stream", "Last-Event-ID": str(cursor)})
        except errors.BerthError as e:
            if not (isinstance(e, errors.ConnectionFailed) or (e.status or 0) >= 500) or failures >= MAX_FAILURES:
                raise
            time.sleep(min(0.25 * 2 ** failures, 30.0))
            failures += 1
            continue
        received = False
        try:
            data: List[str] = []
            while True:
                try:
                    raw = response.readline()
                except (OSError, ValueError, http.client.HTTPException):  # timeouts, resets, a chunk cut off
                    break
                if not raw:
                    break
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        item = Event.from_json(json.loads("\n".join(data)))
                        data = []
                        cursor = item.id
                        failures = 0
                        received = True
                        yield item
                    continue
                if line.startswith("data:"):
                    data.append(line[6:] if line.startswith("data: ") else line[5:])
        finally:
            response.abort()
            response.close()
        if not received:
            # The stream ended without an event (a server restarting, a proxy's idle timeout): wait a little.
            time.sleep(min(0.25 * 2 ** min(failures, 5), 5.0))
            failures = min(failures + 1, MAX_FAILURES - 1)
