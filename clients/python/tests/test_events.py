"""Events: polling with a cursor, and the live stream, which reconnects after a dropped connection."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

import berth
from conftest import BreakingProxy, Server, write


class Reader:
    """Iterates an event stream on a thread of its own, so that a test can wait for events with a deadline."""

    def __init__(self, events: Iterator[berth.Event]) -> None:
        self._events = events
        self._queue: "queue.Queue[object]" = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            for event in self._events:
                self._queue.put(event)
        except BaseException as e:  # surfaced by next()
            self._queue.put(e)

    def next(self, timeout: float = 30) -> berth.Event:
        item = self._queue.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, berth.Event)
        return item

    def until(self, kind: str, timeout: float = 30) -> List[berth.Event]:
        seen = [self.next(timeout)]
        while seen[-1].type != kind:
            seen.append(self.next(timeout))
        return seen


def test_polling_returns_events_after_the_cursor(client: berth.Client, ns: str, tmp_path: Path) -> None:
    head = client.list_events(0, limit=1).head
    version = client.push(str(write(tmp_path / "m" / "w.bin", b"x")), f"{ns}/fraud", progress=False).version
    client.set_stage(version.reference, "staging")
    batch = client.list_events(head, namespace=ns)
    assert [e.type for e in batch.items] == ["namespace.created", "model.created", "version.created", "version.ready", "stage.changed"]
    assert batch.next == batch.items[-1].id and batch.head >= batch.next
    stage = batch.items[-1]
    assert (stage.model, stage.version, stage.after, stage.actor) == (f"{ns}/fraud", version.number, {"stage": "staging"}, "admin")
    assert client.list_events(batch.next, namespace=ns).items == []
    only = client.list_events(head, namespace=ns, types=["version.ready"])
    assert [e.type for e in only.items] == ["version.ready"]


def test_the_stream_sends_what_committed_after_the_cursor_then_live_events(client: berth.Client, ns: str, tmp_path: Path) -> None:
    head = client.list_events(0, limit=1).head
    first = client.push(str(write(tmp_path / "a" / "w.bin", b"a")), f"{ns}/fraud", progress=False).version
    reader = Reader(client.events(since=head, namespace=ns))
    backlog = reader.until("version.ready")
    assert [e.type for e in backlog] == ["namespace.created", "model.created", "version.created", "version.ready"]

    client.set_stage(first.reference, "production")
    live = reader.next()
    assert (live.type, live.version, live.after) == ("stage.changed", first.number, {"stage": "production"})
    assert live.id > backlog[-1].id


def test_events_from_now_on_skip_the_past(client: berth.Client, ns: str, tmp_path: Path) -> None:
    version = client.push(str(write(tmp_path / "a" / "w.bin", b"a")), f"{ns}/fraud", progress=False).version
    reader = Reader(client.events(namespace=ns, types=["stage.changed"]))
    client.set_stage(version.reference, "staging")
    event = reader.next()
    assert (event.type, event.after) == ("stage.changed", {"stage": "staging"})


def test_the_stream_reconnects_after_a_dropped_connection_without_missing_or_repeating(
        server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    version = client.push(str(write(tmp_path / "a" / "w.bin", b"a")), f"{ns}/fraud", progress=False).version
    proxy = BreakingProxy(server.url)
    try:
        with berth.Client(proxy.url, token=server.token) as through_proxy:
            reader = Reader(through_proxy.events(namespace=ns, types=["stage.changed"]))
            client.set_stage(version.reference, "staging")
            before = reader.next()
            proxy.break_all()
            client.set_stage(version.reference, "production")
            client.set_stage(version.reference, "archived")
            after = [reader.next(), reader.next()]
            assert [e.after for e in [before, *after]] == [{"stage": "staging"}, {"stage": "production"}, {"stage": "archived"}]
            assert before.id < after[0].id < after[1].id
            assert proxy.cuts == 1
    finally:
        proxy.close()


def test_a_stream_with_a_wrong_token_raises(server: Server) -> None:
    with berth.Client(server.url, token="berth_" + "c" * 48) as client:
        with pytest.raises(berth.Unauthorized):
            next(client.events(since=0))
