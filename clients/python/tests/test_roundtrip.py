"""Push and pull round trips: every selector, verified bytes, unchanged content, deduplication."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import berth
from conftest import tree, write


def make_model(root: Path) -> Path:
    write(root / "model.bin", os.urandom(2_000_000))  # one request, over the size that waits for 100 Continue
    write(root / "config.json", b'{"layers": 3}')
    write(root / "sub" / "weights-2.bin", os.urandom(70_000))
    write(root / "empty.txt", b"")
    return root


def test_round_trip_with_every_selector(client: berth.Client, ns: str, tmp_path: Path) -> None:
    source = make_model(tmp_path / "model")
    pushed = client.push(str(source), f"{ns}/fraud", version="1.3.0", metrics={"auc": 0.93}, params={"lr": 0.01},
                         tags={"team": "risk"}, aliases=["champion"], description="first", progress=False)
    v = pushed.version
    assert (v.number, v.semver, v.state, v.aliases) == (1, "1.3.0", "ready", ["champion"])
    assert v.metrics == {"auc": 0.93} and v.params == {"lr": "0.01"} and v.tags == {"team": "risk"}
    assert (pushed.files_total, pushed.files_uploaded, pushed.unchanged) == (4, 4, False)
    client.set_stage(v.reference, "production", comment="ship it")

    selectors = [":1", ":1.3.0", ":v1.3.0", ":champion", ":production", ":latest", "", "@" + v.manifest_digest]
    for i, selector in enumerate(selectors):
        dest = tmp_path / f"pulled-{i}"
        result = client.pull(f"{ns}/fraud{selector}", str(dest), progress=False)
        assert result.version.number == 1, selector
        assert result.files_downloaded == 4
        assert tree(dest) == tree(source), selector
        assert not list(dest.rglob("*.berth-partial"))


def test_get_version_by_selector_names_the_same_version(client: berth.Client, ns: str, tmp_path: Path) -> None:
    first = client.push(str(write(tmp_path / "a" / "w.bin", b"one")), f"{ns}/m", version="0.1.0", progress=False).version
    second = client.push(str(write(tmp_path / "b" / "w.bin", b"two")), f"{ns}/m", aliases=["candidate"], progress=False).version
    assert client.get_version(f"{ns}/m").number == second.number
    assert client.get_version(f"{ns}/m:latest").number == second.number
    assert client.get_version(f"{ns}/m:candidate").number == second.number
    assert client.get_version(f"{ns}/m:0.1.0").number == first.number
    assert client.get_version(f"{ns}/m@{first.manifest_digest}").number == first.number
    files = client.get_version(f"{ns}/m:1", files=True).files
    assert files is not None and [(f.path, f.size) for f in files] == [("w.bin", 3)]


def test_pushing_the_same_content_again_creates_nothing_and_moves_aliases(client: berth.Client, ns: str, tmp_path: Path) -> None:
    source = make_model(tmp_path / "model")
    first = client.push(str(source), f"{ns}/fraud", progress=False)
    again = client.push(str(source), f"{ns}/fraud", aliases=["champion"], metrics={"auc": 0.5}, progress=False)
    assert again.unchanged and again.version.number == first.version.number
    assert again.files_uploaded == 0 and again.bytes_uploaded == 0
    assert again.version.aliases == ["champion"] and again.version.metrics == {}
    assert [m.outcome for m in again.alias_moves] == ["applied"]
    assert [v.number for v in client.list_versions(f"{ns}/fraud")] == [1]

    forced = client.push(str(source), f"{ns}/fraud", allow_unchanged=True, progress=False)
    assert not forced.unchanged and forced.version.number == 2 and forced.bytes_uploaded == 0
    assert forced.same_content_as is not None and forced.same_content_as.number == 1
    with_semver = client.push(str(source), f"{ns}/fraud", version="2.0.0", progress=False)
    assert not with_semver.unchanged and with_semver.version.number == 3


def test_only_what_the_server_lacks_is_uploaded(client: berth.Client, ns: str, tmp_path: Path) -> None:
    source = tmp_path / "model"
    write(source / "big.bin", os.urandom(200_000))
    client.push(str(source), f"{ns}/fraud", progress=False)
    write(source / "extra.bin", os.urandom(5_000))
    second = client.push(str(source), f"{ns}/fraud", progress=False)
    assert (second.files_uploaded, second.bytes_uploaded) == (1, 5_000)
    assert second.version.file_count == 2


def test_names_with_characters_json_escapes_push_and_pull(client: berth.Client, ns: str, tmp_path: Path) -> None:
    # The manifest digest the client computes must be the server's byte for byte, escapes included.
    source = tmp_path / "model"
    names = ["a&b'c+d`e.bin", "café/naïve €.txt", "emoji-😀.bin", "ｆｕｌｌ.bin", "x y=z,(1)[2]{3}~!@#$%^.bin"]
    for i, name in enumerate(names):
        write(source / name, f"content {i}".encode())
    first = client.push(str(source), f"{ns}/names", progress=False)
    again = client.push(str(source), f"{ns}/names", progress=False)
    assert again.unchanged and again.version.number == first.version.number
    dest = tmp_path / "out"
    client.pull(f"{ns}/names:1", str(dest), progress=False)
    assert tree(dest) == tree(source)


def test_decomposed_names_are_pushed_in_nfc(client: berth.Client, ns: str, tmp_path: Path) -> None:
    source = tmp_path / "model"
    write(source / "cafe\u0301.txt", b"x")
    version = client.push(str(source), f"{ns}/nfc", progress=False).version
    files = client.get_version(version.reference, files=True).files
    assert files is not None and [f.path for f in files] == ["caf\u00e9.txt"]


def test_a_single_file_is_pushed_under_its_name(client: berth.Client, ns: str, tmp_path: Path) -> None:
    path = write(tmp_path / "only.onnx", b"onnx bytes")
    version = client.push(str(path), f"{ns}/single", progress=False).version
    assert [f.path for f in client.get_version(version.reference, files=True).files or []] == ["only.onnx"]


def test_large_files_go_through_sessions_and_streams(client: berth.Client, ns: str, tmp_path: Path) -> None:
    source = tmp_path / "model"
    write(source / "streamed.bin", os.urandom(3_000_000))
    write(source / "session.bin", os.urandom(1_500_000))
    write(source / "small.bin", os.urandom(1_000))
    result = client.push(str(source), f"{ns}/large", single_request_limit=1_000_000, stream_threshold=2_000_000, progress=False)
    assert result.files_uploaded == 3 and result.bytes_uploaded == 4_501_000
    dest = tmp_path / "out"
    client.pull(f"{ns}/large", str(dest), progress=False)
    assert tree(dest) == tree(source)
    assert (Path(os.environ["BERTH_CACHE_DIR"]) / "uploads.json").read_text() in ("{}", "")


def test_a_streamed_upload_of_bytes_the_server_holds_is_dropped(client: berth.Client, ns: str, tmp_path: Path) -> None:
    data = os.urandom(3_000_000)
    client.push(str(write(tmp_path / "a" / "w.bin", data)), f"{ns}/one", progress=False)
    # Another path with the same bytes: no digest cached, so it streams while hashing; the server has the blob.
    result = client.push(str(write(tmp_path / "b" / "copy.bin", data)), f"{ns}/one", stream_threshold=1_000_000, progress=False)
    assert not result.unchanged and result.files_uploaded == 0 and result.bytes_uploaded == 0
    assert (Path(os.environ["BERTH_CACHE_DIR"]) / "uploads.json").read_text() in ("{}", "")


def test_an_empty_folder_is_refused_before_the_server_is_contacted(client: berth.Client, ns: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    try:
        client.push(str(tmp_path / "empty"), f"{ns}/nothing", progress=False)
    except ValueError as e:
        assert "nothing to push" in str(e)
    else:
        raise AssertionError("an empty folder was pushed")
    try:
        client.get_model(f"{ns}/nothing")
    except berth.NotFound as e:
        assert e.code in ("namespace_not_found", "model_not_found")
    else:
        raise AssertionError("the model exists")


def test_a_progress_line_is_shown_when_asked_and_not_when_stderr_is_no_terminal(
        client: berth.Client, ns: str, tmp_path: Path, capsys: "pytest.CaptureFixture[str]") -> None:
    source = make_model(tmp_path / "model")
    client.push(str(source), f"{ns}/progress", progress=True)
    shown = capsys.readouterr().err
    assert f"\rpush {ns}/progress: hashing" in shown and f"\rpush {ns}/progress: uploading" in shown
    assert "files" in shown and shown.endswith("\n")
    client.pull(f"{ns}/progress", str(tmp_path / "out"), progress=None)  # captured stderr is not a terminal
    assert capsys.readouterr().err == ""
    seen = []
    client.pull(f"{ns}/progress", str(tmp_path / "again"), progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert ("downloading", 0, 2_070_000 + len(b'{"layers": 3}')) in seen and seen[-1][0] == "done"
