"""What a pull does with the folder it writes into: keeps identical files, refuses to overwrite differing ones
unless forced, and never follows a symbolic link inside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import berth
from conftest import tree, write


@pytest.fixture
def pushed(client: berth.Client, ns: str, tmp_path: Path) -> str:
    source = tmp_path / "model"
    write(source / "model.bin", b"weights " * 1000)
    write(source / "sub" / "config.json", b'{"a": 1}')
    return client.push(str(source), f"{ns}/fraud", progress=False).version.reference


def test_files_already_there_are_kept_and_not_downloaded(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    client.pull(pushed, str(out), progress=False)
    before = os.stat(out / "model.bin").st_ino
    again = client.pull(pushed, str(out), progress=False)
    assert (again.files_downloaded, again.files_unchanged, again.bytes_downloaded) == (0, 2, 0)
    assert os.stat(out / "model.bin").st_ino == before


def test_a_differing_file_is_a_conflict_unless_forced(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out / "model.bin", b"mine")
    write(out / "sub" / "config.json", b'{"a": 2}')  # same size, other content
    write(out / "notes.txt", b"left alone")
    with pytest.raises(berth.PullConflict) as raised:
        client.pull(pushed, str(out), progress=False)
    assert [path for path, _ in raised.value.conflicts] == ["model.bin", "sub/config.json"]
    assert raised.value.code == "pull_conflict"
    assert (out / "model.bin").read_bytes() == b"mine"  # nothing written

    result = client.pull(pushed, str(out), force=True, progress=False)
    assert result.files_downloaded == 2
    assert (out / "model.bin").read_bytes() == b"weights " * 1000
    assert (out / "notes.txt").read_bytes() == b"left alone"


def test_a_link_where_a_file_goes_is_replaced_never_written_through(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    out, outside = tmp_path / "out", write(tmp_path / "secret.txt", b"do not touch")
    out.mkdir()
    os.symlink(outside, out / "model.bin")
    with pytest.raises(berth.PullConflict) as raised:
        client.pull(pushed, str(out), progress=False)
    assert raised.value.conflicts[0][0] == "model.bin" and "symbolic link" in raised.value.conflicts[0][1]

    client.pull(pushed, str(out), force=True, progress=False)
    assert not (out / "model.bin").is_symlink()
    assert (out / "model.bin").read_bytes() == b"weights " * 1000
    assert outside.read_bytes() == b"do not touch"


def test_a_linked_parent_folder_is_never_followed(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "sub")
    with pytest.raises(berth.PullConflict) as raised:
        client.pull(pushed, str(out), progress=False)
    assert raised.value.conflicts[0][0] == "sub"

    client.pull(pushed, str(out), force=True, progress=False)
    assert (out / "sub").is_dir() and not (out / "sub").is_symlink()
    assert list(elsewhere.iterdir()) == []
    assert tree(out) == {"model.bin": b"weights " * 1000, "sub/config.json": b'{"a": 1}'}


def test_a_linked_partial_file_is_removed_not_written_through(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    out, outside = tmp_path / "out", write(tmp_path / "target.bin", b"keep")
    out.mkdir()
    os.symlink(outside, out / "model.bin.berth-partial")
    client.pull(pushed, str(out), progress=False)
    assert outside.read_bytes() == b"keep"
    assert (out / "model.bin").read_bytes() == b"weights " * 1000
    assert not os.path.lexists(out / "model.bin.berth-partial")


def test_the_folder_itself_may_be_a_link(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    client.pull(pushed, str(tmp_path / "link"), progress=False)
    assert tree(real) == {"model.bin": b"weights " * 1000, "sub/config.json": b'{"a": 1}'}


def test_a_folder_where_a_file_goes_is_replaced_when_forced(client: berth.Client, pushed: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out / "model.bin" / "inner.txt", b"x")
    with pytest.raises(berth.PullConflict):
        client.pull(pushed, str(out), progress=False)
    client.pull(pushed, str(out), force=True, progress=False)
    assert (out / "model.bin").read_bytes() == b"weights " * 1000


def test_risky_paths_are_written_with_a_warning(client: berth.Client, ns: str, tmp_path: Path) -> None:
    write(tmp_path / "model" / ".github" / "workflows" / "ci.yml", b"on: push")
    write(tmp_path / "model" / "w.bin", b"w")
    reference = client.push(str(tmp_path / "model"), f"{ns}/risky", progress=False).version.reference
    result = client.pull(reference, str(tmp_path / "out"), progress=False)
    assert [(w.code, w.path) for w in result.warnings] == [("risky_path", ".github/workflows/ci.yml")]
    assert (tmp_path / "out" / ".github" / "workflows" / "ci.yml").read_bytes() == b"on: push"
