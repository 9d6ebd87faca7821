"""Failures arrive as exceptions with the server's code, detail and request id; nothing half-written is kept."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from pathlib import Path

import pytest

import berth
from conftest import Server, write


def test_a_wrong_token_is_unauthorized(server: Server, ns: str) -> None:
    with berth.Client(server.url, token="berth_" + "a" * 48) as client:
        with pytest.raises(berth.Unauthorized) as raised:
            client.get_model(f"{ns}/fraud")
    e = raised.value
    assert e.status == 401 and e.code == "token_invalid"
    assert e.request_id and e.detail
    assert "token_invalid" in str(e) and e.request_id in str(e)


def test_a_malformed_token_and_no_token_have_their_own_codes(server: Server, ns: str) -> None:
    with berth.Client(server.url, token="not-a-token") as client:
        with pytest.raises(berth.Unauthorized) as malformed:
            client.whoami()
    assert malformed.value.code == "token_malformed"
    with berth.Client(server.url) as anonymous:
        with pytest.raises(berth.Unauthorized) as missing:
            anonymous.list_models(ns).__next__()
    assert missing.value.code == "token_missing"


def test_a_missing_model_is_not_found(client: berth.Client, ns: str, tmp_path: Path) -> None:
    client.push(str(write(tmp_path / "m" / "w.bin", b"x")), f"{ns}/present", progress=False)
    with pytest.raises(berth.NotFound) as raised:
        client.get_version(f"{ns}/absent:1")
    assert raised.value.code == "model_not_found" and raised.value.status == 404 and raised.value.request_id
    with pytest.raises(berth.NotFound) as version:
        client.get_version(f"{ns}/present:9")
    assert version.value.code == "version_not_found"
    with pytest.raises(berth.NotFound) as pulled:
        client.pull(f"{ns}/absent", str(tmp_path / "out"), progress=False)
    assert pulled.value.code == "model_not_found"
    assert not (tmp_path / "out").exists()


def test_a_bad_reference_is_refused_before_anything_is_sent(client: berth.Client) -> None:
    for reference in ("", "Acme/fraud", "a/b/c", "acme/fraud@md5:00", "fraud"):
        with pytest.raises(berth.InvalidReference) as raised:
            client.get_version(reference)
        assert raised.value.code == "invalid_reference" and isinstance(raised.value, ValueError)


def test_a_bad_selector_is_the_servers_invalid_reference(client: berth.Client, ns: str, tmp_path: Path) -> None:
    client.push(str(write(tmp_path / "m" / "w.bin", b"x")), f"{ns}/present", progress=False)
    with pytest.raises(berth.BadRequest) as raised:
        client.get_version(f"{ns}/present:Not_Valid!")
    assert raised.value.code == "invalid_reference"


def test_a_file_that_changed_behind_the_digest_cache_is_refused_as_a_digest_mismatch(
        client: berth.Client, ns: str, tmp_path: Path) -> None:
    # The cache vouches for a digest the bytes no longer have (rewritten with the same size and time): the server
    # verifies every byte it receives, refuses the upload and keeps nothing.
    before, after = os.urandom(100_000), os.urandom(100_000)
    weights = write(tmp_path / "model" / "weights.bin", after)
    old = time.time() - 3600
    os.utime(weights, (old, old))
    ticks = 621_355_968_000_000_000 + os.stat(weights).st_mtime_ns // 100
    stale = "sha256:" + hashlib.sha256(before).hexdigest()
    cache = write(Path(os.environ["BERTH_CACHE_DIR"]) / "digests.json", json.dumps(
        {str(weights): {"Size": 100_000, "LastWriteTicks": ticks, "RecordedTicks": ticks + 36_000_000_000, "Digest": stale}}).encode())
    with pytest.raises(berth.DigestMismatch) as raised:
        client.push(str(tmp_path / "model"), f"{ns}/fraud", progress=False)
    e = raised.value
    assert e.status == 400 and e.code == "digest_mismatch" and e.request_id
    assert e.extensions["expected"] == stale and e.extensions["actual"] == "sha256:" + hashlib.sha256(after).hexdigest()
    assert list(client.list_versions(f"{ns}/fraud")) == []  # declared, never ready
    assert client._http.call("POST", "blobs/check", json_body={"digests": [stale, e.extensions["actual"]]})["missing"] == [stale, e.extensions["actual"]]
    assert str(weights) not in json.loads(cache.read_text())  # forgotten: the next push hashes the file again
    again = client.push(str(tmp_path / "model"), f"{ns}/fraud", progress=False)
    assert again.files_hashed == 1 and again.bytes_uploaded == 100_000


def test_a_pull_of_corrupted_stored_bytes_fails_and_keeps_nothing(server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    version = client.push(str(write(tmp_path / "model" / "w.bin", data)), f"{ns}/fraud", progress=False).version
    digest = client.get_version(version.reference, files=True).files[0].digest  # type: ignore[index]
    blob = server.blob_path(digest)
    original = blob.read_bytes()
    os.chmod(blob, 0o600)
    blob.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])  # same size, one byte flipped
    try:
        with pytest.raises(berth.DigestMismatch) as raised:
            client.pull(version.reference, str(tmp_path / "out"), progress=False)
        assert raised.value.code == "digest_mismatch" and raised.value.status is None
        assert list((tmp_path / "out").iterdir()) == []  # neither the file nor a partial one
    finally:
        blob.write_bytes(original)


def test_errors_survive_pickling(server: Server) -> None:
    with berth.Client(server.url, token="berth_" + "b" * 48) as client:
        with pytest.raises(berth.Unauthorized) as raised:
            client.whoami()
    copy = pickle.loads(pickle.dumps(raised.value))
    assert type(copy) is berth.Unauthorized and copy.code == "token_invalid" and copy.request_id == raised.value.request_id


def test_an_unreachable_server_is_connection_failed() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with berth.Client(f"http://127.0.0.1:{port}", token="x") as client:
        with pytest.raises(berth.ConnectionFailed) as raised:
            client.whoami()
    assert raised.value.code == "connection_failed" and raised.value.status is None
