"""Run files and registering a run as a version, against a real server (docs/runs.md, *Run files*)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import berth
from conftest import BreakingProxy, Server, tree, write

# Sends metric batches only when asked (flush) or at the end: a point logged just before register() is still buffered.
SLOW = berth.RunSessionOptions(flush_interval=60, heartbeat_interval=60)


def outputs(root: Path) -> Path:
    write(root / "model" / "weights.bin", os.urandom(300_000))
    write(root / "model" / "config.json", b'{"depth": 6}')
    write(root / "plots" / "roc.png", os.urandom(40_000))
    return root


def test_logging_a_folder_uploads_it_once_and_an_unchanged_folder_again_sends_nothing(
        server: Server, ns: str, tmp_path: Path) -> None:
    folder = outputs(tmp_path / "out")
    proxy = BreakingProxy(server.url)
    try:
        with berth.Client(proxy.url, token=server.token) as client, client.start_run(f"{ns}/fraud") as run:
            first = run.log_files(str(folder), progress=False)
            assert [f.path for f in first] == ["model/config.json", "model/weights.bin", "plots/roc.png"]
            assert (first.files_total, first.files_uploaded, first.bytes_uploaded) == (3, 3, 340_012)
            assert all(f.digest.startswith("sha256:") and f.time is not None for f in first)

            before = proxy.upstream_bytes
            second = run.log_files(str(folder), progress=False, digest_cache=False)  # hashed again: the server decides
            assert (second.files_uploaded, second.bytes_uploaded, second.files_hashed) == (0, 0, 3)
            assert proxy.upstream_bytes - before < 10_000  # one attach request, no bytes of the files
            assert [(f.path, f.size, f.digest) for f in second] == [(f.path, f.size, f.digest) for f in first]

            # Another run of the model attaches the same bytes without uploading them either.
            with client.start_run(f"{ns}/fraud") as other:
                before = proxy.upstream_bytes
                assert other.log_files(str(folder / "plots"), progress=False).files_uploaded == 0
                assert proxy.upstream_bytes - before < 10_000
                assert [f.path for f in other.list_files()] == ["roc.png"]
    finally:
        proxy.close()


def test_large_files_go_through_resumable_sessions_and_a_prefix_is_prepended(client: berth.Client, ns: str, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    single = write(tmp_path / "ckpt.pt", data)
    with client.start_run(f"{ns}/fraud") as run:
        files = run.log_files(str(single), prefix="checkpoints/epoch1/", progress=False, single_request_limit=1024,
                              stream_threshold=None)
        assert [(f.path, f.size) for f in files] == [("checkpoints/epoch1/ckpt.pt", 200_000)]
        assert files.files_uploaded == 1 and files.bytes_uploaded == 200_000
        # A path attached again is replaced; the listing (paged) shows every file of the run.
        write(single, b"smaller")
        files = run.log_files(str(single), prefix="checkpoints/epoch1", progress=False)
        assert [(f.path, f.size) for f in files] == [("checkpoints/epoch1/ckpt.pt", 7)]
        assert [f.path for f in client.list_run_files(run.ref, page_size=1)] == ["checkpoints/epoch1/ckpt.pt"]

        target = client.download_run_file(run.ref, "checkpoints/epoch1/ckpt.pt", str(tmp_path / "back" / "c.pt"))
        assert Path(target).read_bytes() == b"smaller"
        (tmp_path / "folder").mkdir()
        into_folder = client.download_run_file(run, "checkpoints/epoch1/ckpt.pt", str(tmp_path / "folder"))
        assert Path(into_folder) == tmp_path / "folder" / "ckpt.pt" and Path(into_folder).read_bytes() == b"smaller"
        with pytest.raises(berth.NotFound):
            client.download_run_file(run.ref, "checkpoints/none.pt", str(tmp_path / "none.pt"))


def test_registering_a_run_makes_a_ready_version_of_its_files_without_uploading_them_again(
        server: Server, ns: str, tmp_path: Path) -> None:
    folder = outputs(tmp_path / "out")
    proxy = BreakingProxy(server.url)
    try:
        with berth.Client(proxy.url, token=server.token) as client:
            with client.start_run(f"{ns}/fraud", params={"lr": 0.01}, options=SLOW) as run:
                for step in range(50):
                    run.log({"loss": 1 / (step + 1), "auc": step / 100}, step=step)
                run.log_files(str(folder), progress=False)
                run.log({"loss": 0.011, "auc": 0.93}, step=50)  # still buffered: register sends it first

                before = proxy.upstream_bytes
                version = run.register(path="model/", version="1.4.0", description="from a run",
                                       metrics={"val_f1": 0.8}, tags={"team": "risk"}, aliases=["candidate"])
                assert proxy.upstream_bytes - before < 10_000  # nothing uploaded again

                assert isinstance(version, berth.Version) and version.state == "ready"
                assert (version.semver, version.description, version.aliases) == ("1.4.0", "from a run", ["candidate"])
                assert version.lineage.run_id == run.id
                assert version.metrics == {"loss": 0.011, "auc": 0.93, "val_f1": 0.8}
                assert version.params == {"lr": "0.01"} and version.tags == {"team": "risk"}
                assert version.file_count == 2
                assert client.get_run(run.ref).status == "running"  # registering does not end the run

            # The prefix is stripped, and the version's bytes are the run's.
            pulled = client.pull(f"{ns}/fraud:1.4.0", str(tmp_path / "pulled"), progress=False)
            assert tree(tmp_path / "pulled") == tree(folder / "model")
            assert {f.path for f in pulled.version.files or []} == {"weights.bin", "config.json"}

            # client.register_run: every file of the run (no path), run metrics replaced by the given ones.
            whole = client.register_run(run.ref, metrics={"auc": 0.5})
            assert whole.file_count == 3 and whole.metrics["auc"] == 0.5 and whole.lineage.run_id == run.id
            assert sorted(v["number"] for v in client.get_run(run.ref).raw.get("versions", [])) == [version.number, whole.number]
    finally:
        proxy.close()


def test_refusals_raise_the_clients_problem_exceptions_with_their_codes(client: berth.Client, ns: str, tmp_path: Path) -> None:
    with client.start_run(f"{ns}/fraud") as run:
        with pytest.raises(berth.BadRequest) as nothing:
            run.register()
        assert nothing.value.code == "empty_selection" and nothing.value.status == 400

        run.log_files(str(write(tmp_path / "a.bin", b"a")), prefix="model", progress=False)
        with pytest.raises(berth.BadRequest) as elsewhere:
            run.register(path="plots/")
        assert elsewhere.value.code == "empty_selection"

        with pytest.raises(berth.BadRequest) as bad_path:
            run.log_files(str(tmp_path / "a.bin"), prefix="../up", progress=False)
        assert bad_path.value.code == "invalid_path"

        with pytest.raises(ValueError):
            run.register(metrics={"auc": float("nan")})

    unknown = f"{ns}/fraud/aaaaaaaaaaaa"
    for call in (lambda: client.register_run(unknown),
                 lambda: client.log_run_files(unknown, str(tmp_path / "a.bin"), progress=False),
                 lambda: list(client.list_run_files(unknown))):
        with pytest.raises(berth.NotFound) as missing:
            call()
        assert missing.value.code == "run_not_found"

    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError):
        client.log_run_files(run.ref, str(tmp_path / "empty"))


def test_a_push_names_its_run_in_the_lineage(client: berth.Client, ns: str, tmp_path: Path) -> None:
    model = write(tmp_path / "m" / "model.bin", os.urandom(1000))
    with client.start_run(f"{ns}/fraud") as run:
        by_session = client.push(str(model.parent), f"{ns}/fraud", run=run, progress=False).version
        assert by_session.lineage.run_id == run.id
        write(model, os.urandom(1000))
        by_id = client.push(str(model.parent), f"{ns}/fraud", run=run.id, lineage={"git_commit": "abc1234"}, progress=False).version
        assert (by_id.lineage.run_id, by_id.lineage.git_commit) == (run.id, "abc1234")
        with pytest.raises(ValueError):
            client.push(str(model.parent), f"{ns}/fraud", run=run.ref, lineage={"run_id": "bbbbbbbbbbbb"}, progress=False)
        assert sorted(v["number"] for v in client.get_run(run.ref).raw.get("versions", [])) == [by_session.number, by_id.number]

    write(model, os.urandom(1000))
    with pytest.raises(berth.NotFound) as unknown:
        client.push(str(model.parent), f"{ns}/fraud", run=f"{ns}/fraud/aaaaaaaaaaaa", progress=False)
    assert unknown.value.code == "run_not_found"
