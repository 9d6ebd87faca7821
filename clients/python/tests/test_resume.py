"""Interrupted transfers resume: a connection killed mid-file, a push stopped half-way and run again, a pull too."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import berth
from conftest import BreakingProxy, Server, tree, write

MB = 1_000_000


class Interrupted(Exception):
    """Stands for Ctrl+C or a killed job."""


def settled_offset(client: berth.Client, location: str) -> int:
    """The session's offset once the server has written what reached it of the broken request (it stops changing)."""
    last, deadline = -1, time.monotonic() + 20
    while time.monotonic() < deadline:
        offset = client._http.call("GET", location)["offset"]
        if offset == last and offset > 0:
            return offset
        last = offset
        time.sleep(0.5)
    return last


def uploads_file() -> Path:
    return Path(os.environ["BERTH_CACHE_DIR"]) / "uploads.json"


@pytest.mark.parametrize("streamed", [False, True], ids=["session", "streamed-while-hashing"])
def test_an_upload_whose_connection_is_killed_mid_file_resumes_from_the_servers_offset(
        server: Server, ns: str, tmp_path: Path, streamed: bool) -> None:
    size = 8 * MB
    source = tmp_path / "model"
    write(source / "weights.bin", os.urandom(size))
    proxy = BreakingProxy(server.url, cut_after=3 * MB)
    try:
        with berth.Client(proxy.url, token=server.token) as client:
            result = client.push(str(source), f"{ns}/fraud", single_request_limit=MB,
                                 stream_threshold=MB if streamed else None, progress=False)
        assert proxy.cuts == 1
        # Everything once, plus what was in flight when the connection died: not the whole file again.
        assert proxy.upstream_bytes < size + 2 * MB
        assert result.files_uploaded == 1
    finally:
        proxy.close()
    with berth.Client(server.url, token=server.token) as client:
        client.pull(f"{ns}/fraud:{result.version.number}", str(tmp_path / "out"), progress=False)
    assert tree(tmp_path / "out") == tree(source)


def test_a_push_stopped_half_way_continues_where_it_stopped_when_run_again(client: berth.Client, ns: str, tmp_path: Path) -> None:
    size = 12 * MB
    source = tmp_path / "model"
    weights = write(source / "weights.bin", os.urandom(size))
    an_hour_ago = time.time() - 3600
    os.utime(weights, (an_hour_ago, an_hour_ago))  # old enough for the digest cache to trust its entry

    def stop_after_4mb(phase: str, done: int, total: int) -> None:
        if phase == "uploading" and done >= 4 * MB:
            raise Interrupted()

    with pytest.raises(Interrupted):
        client.push(str(source), f"{ns}/fraud", single_request_limit=MB, stream_threshold=None, progress=stop_after_4mb)
    (location,) = json.loads(uploads_file().read_text()).values()  # the open session is remembered
    held = settled_offset(client, location)
    assert 0 < held < size

    again = client.push(str(source), f"{ns}/fraud", single_request_limit=MB, stream_threshold=None, progress=False)
    assert again.bytes_resumed == held
    assert again.bytes_resumed + again.bytes_uploaded == size
    assert again.files_hashed == 0  # the digest cache knew the file
    assert json.loads(uploads_file().read_text()) == {}
    client.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=False)
    assert tree(tmp_path / "out") == tree(source)


def test_a_push_stopped_while_a_large_file_streams_resumes_that_stream(client: berth.Client, ns: str, tmp_path: Path) -> None:
    size = 40 * MB
    source = tmp_path / "model"
    write(source / "weights.bin", os.urandom(size))

    def stop_once_the_server_holds_2mb(phase: str, done: int, total: int) -> None:
        # Called from the hashing thread while the stream uploads: wait until the server holds 2 MB, then stop.
        if phase != "hashing" or done == 0:
            return
        for _ in range(600):
            sessions = json.loads(uploads_file().read_text()) if uploads_file().exists() else {}
            if sessions:
                (location,) = sessions.values()
                if client._http.call("GET", location)["offset"] >= 2 * MB:
                    raise Interrupted()
            time.sleep(0.05)
        raise AssertionError("the stream never reached 2 MB")

    with pytest.raises(Interrupted):
        client.push(str(source), f"{ns}/fraud", stream_threshold=MB, progress=stop_once_the_server_holds_2mb)

    again = client.push(str(source), f"{ns}/fraud", stream_threshold=MB, progress=False)
    assert again.bytes_resumed >= 2 * MB
    assert again.bytes_resumed + again.bytes_uploaded == size
    client.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=False)
    assert tree(tmp_path / "out") == tree(source)


def test_a_download_whose_connection_is_killed_mid_file_resumes_with_a_range_request(
        server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    size = 8 * MB
    source = tmp_path / "model"
    write(source / "weights.bin", os.urandom(size))
    client.push(str(source), f"{ns}/fraud", progress=False)
    proxy = BreakingProxy(server.url)
    try:
        with berth.Client(proxy.url, token=server.token) as through_proxy:
            def break_once(phase: str, done: int, total: int) -> None:
                if phase == "downloading" and done >= 3 * MB and proxy.cuts == 0:
                    proxy.break_all()

            result = through_proxy.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=break_once)
        assert proxy.cuts == 1
        assert result.files_downloaded == 1
    finally:
        proxy.close()
    assert tree(tmp_path / "out") == tree(source)
    assert not list((tmp_path / "out").glob("*.berth-partial"))


def test_an_interrupted_pull_keeps_its_partial_file_and_the_next_pull_fetches_the_rest(
        client: berth.Client, ns: str, tmp_path: Path) -> None:
    size = 12 * MB
    source = tmp_path / "model"
    write(source / "weights.bin", os.urandom(size))
    client.push(str(source), f"{ns}/fraud", progress=False)

    def stop_after_3mb(phase: str, done: int, total: int) -> None:
        if phase == "downloading" and done >= 3 * MB:
            raise Interrupted()

    with pytest.raises(Interrupted):
        client.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=stop_after_3mb)
    partial = tmp_path / "out" / "weights.bin.berth-partial"
    kept = partial.stat().st_size
    assert kept >= 3 * MB and not (tmp_path / "out" / "weights.bin").exists()

    result = client.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=False)
    assert (result.bytes_resumed, result.bytes_downloaded) == (kept, size - kept)
    assert tree(tmp_path / "out") == tree(source)


def test_a_partial_download_left_by_an_earlier_pull_is_continued(client: berth.Client, ns: str, tmp_path: Path) -> None:
    data = os.urandom(3 * MB)
    client.push(str(write(tmp_path / "model" / "w.bin", data)), f"{ns}/fraud", progress=False)
    write(tmp_path / "out" / "w.bin.berth-partial", data[: 2 * MB])
    result = client.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=False)
    assert (result.bytes_resumed, result.bytes_downloaded) == (2 * MB, 3 * MB - 2 * MB)
    assert (tmp_path / "out" / "w.bin").read_bytes() == data
    assert not (tmp_path / "out" / "w.bin.berth-partial").exists()
    assert result.warnings == []


def test_a_corrupt_partial_download_is_discarded_and_the_file_fetched_again(client: berth.Client, ns: str, tmp_path: Path) -> None:
    data = os.urandom(3 * MB)
    client.push(str(write(tmp_path / "model" / "w.bin", data)), f"{ns}/fraud", progress=False)
    write(tmp_path / "out" / "w.bin.berth-partial", os.urandom(MB))
    result = client.pull(f"{ns}/fraud", str(tmp_path / "out"), progress=False)
    assert (tmp_path / "out" / "w.bin").read_bytes() == data
    assert [w.code for w in result.warnings] == ["partial_discarded"]
    assert result.bytes_resumed == 0
