"""Run logging: the session's buffer and sender against a real server, and the run read API."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

import berth
from conftest import HERE, BlackHole, BreakingProxy, Server

FAST = berth.RunSessionOptions(flush_interval=0.05, retry_delay=0.05, max_retry_delay=0.5)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Waits until ``condition()`` holds (an observable state, not a guess at how long something takes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def bits(value: float) -> bytes:
    return struct.pack("<d", value)


def test_a_run_logs_metrics_in_the_background_and_finishes(client: berth.Client, ns: str) -> None:
    lineage = berth.RunLineage(git_repository="https://git.example/ml", git_commit="3F2A9C1", git_dirty=True,
                               datasets=[berth.Dataset("s3://data/train.parquet", "sha256:" + "a" * 64)])
    with client.start_run(f"{ns}/fraud", name="baseline", params={"lr": 0.01, "depth": 6}, tags={"team": "risk"},
                          note="first try", lineage=lineage, options=FAST) as run:
        assert run.ref == f"{ns}/fraud/{run.id}" and len(run.id) == 12 and run.info.status == "running"
        for step in range(300):
            run.log({"loss": 1 / (step + 1), "acc": step / 300}, step=step)
        run.log_metric("val_auc", 0.93, step=299)
    assert run.final is not None and run.final.status == "finished" and run.closed
    assert (run.sent_points, run.pending_points, run.dropped_points, run.refused_points) == (601, 0, 0, 0)

    found = client.get_run(run.ref)
    assert (found.name, found.status, found.params, found.tags, found.note) == (
        "baseline", "finished", {"lr": "0.01", "depth": "6"}, {"team": "risk"}, "first try")
    assert found.lineage.git_commit == "3f2a9c1" and found.lineage.git_dirty is True
    assert found.lineage.datasets[0].uri == "s3://data/train.parquet"
    assert found.metrics["loss"].count == 300 and found.metrics["loss"].last_step == 299
    assert found.metrics["loss"].last == pytest.approx(1 / 300) and found.metrics["loss"].max == 1.0
    assert found.metrics["val_auc"].last == 0.93 and found.ended_at is not None


def test_a_step_left_out_is_one_past_the_metrics_last_step(client: berth.Client, ns: str) -> None:
    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        run.log_metric("a", 1.0)                     # 0: a new metric starts at 0
        run.log({"a": 2.0, "b": 5.0})                # a at 1, b at 0
        run.log({"a": 3.0}, step=10)
        run.log({"a": 4.0, "b": 6.0})                # a at 11, b at 1
        run.log({"a": 5.0}, step=3)                  # an earlier step does not move the next one back
        run.log_metric("a", 6.0)                     # 12
        assert run.flush(60)
        with client.attach_run(run.ref, options=FAST) as again:  # a second session continues after the stored steps
            assert again.attached
            again.log_metric("b", 7.0)
        assert client.get_run(run.ref).status == "running"       # leaving an attached session does not end the run
    assert [(p.step, p.value) for p in client.run_points(run.ref, "a")] == [(0, 1.0), (1, 2.0), (3, 5.0), (10, 3.0), (11, 4.0), (12, 6.0)]
    assert [p.step for p in client.run_points(run.ref, "b")] == [0, 1, 2]


def test_nan_and_infinities_round_trip_bit_for_bit(client: berth.Client, ns: str) -> None:
    values = [math.nan, math.inf, -math.inf, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 1e-5, 123456789.125, -2.5e16]
    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        for step, value in enumerate(values):
            run.log({"weird": value}, step=step)
    stored = list(client.run_points(run.ref, "weird"))
    assert [p.step for p in stored] == list(range(len(values)))
    assert [bits(p.value) for p in stored] == [bits(v) for v in values]
    summary = client.get_run(run.ref).metrics["weird"]
    assert summary.min == -math.inf and summary.max == math.inf and summary.count == len(values)
    series = client.run_series(run.ref, "weird")
    assert series.is_raw and series.points is not None and math.isnan(series.points[0].value)


def test_an_exception_inside_the_block_fails_the_run_and_is_raised(client: berth.Client, ns: str) -> None:
    with pytest.raises(ZeroDivisionError):
        with client.start_run(f"{ns}/fraud", options=FAST) as run:
            run.log({"loss": 0.5}, step=0)
            1 / 0
    assert client.get_run(run.ref).status == "failed"
    assert client.get_run(run.ref).metrics["loss"].count == 1  # what was logged before the error was sent first


def test_ctrl_c_inside_the_block_kills_the_run_and_is_raised(client: berth.Client, ns: str) -> None:
    with pytest.raises(KeyboardInterrupt):
        with client.start_run(f"{ns}/fraud", options=FAST) as run:
            run.log({"loss": 0.5}, step=0)
            raise KeyboardInterrupt
    assert client.get_run(run.ref).status == "killed"


def test_finish_ends_the_run_as_told_once(client: berth.Client, ns: str) -> None:
    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        run.log({"loss": 0.5})
        ended = run.finish("failed")
        assert ended is not None and ended.status == "failed" and run.finish("failed") is ended
        run.log({"loss": 0.4})                       # after the end: dropped and counted, never raised
    assert client.get_run(run.ref).status == "failed" and run.dropped_points == 1
    with pytest.raises(ValueError):
        run.finish("crashed")


def test_a_quiet_run_sends_heartbeats(client: berth.Client, ns: str) -> None:
    options = berth.RunSessionOptions(flush_interval=0.05, heartbeat_interval=0.2)
    with client.start_run(f"{ns}/fraud", options=options) as run:
        started = run.info.heartbeat_at
        assert started is not None
        wait_for(lambda: (client.get_run(run.ref).heartbeat_at or started) > started, "a heartbeat")
        assert run.last_error is None and run.sent_points == 0


def test_a_forked_child_exiting_leaves_the_parents_run_alone(client: berth.Client, ns: str) -> None:
    from berth import _runs

    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        child = os.fork()
        if child == 0:                                # a data loader's worker, say: what its exit runs must not end the run
            _runs._close_open_sessions()
            os._exit(0)
        assert os.waitpid(child, 0)[1] == 0
        run.log({"loss": 0.5})
        assert run.flush(60) and client.get_run(run.ref).status == "running"
    assert client.get_run(run.ref).status == "finished"


def test_run_metadata_changes_while_the_run_is_logged(client: berth.Client, ns: str) -> None:
    with client.start_run(f"{ns}/fraud", tags={"wip": "1"}, options=FAST) as run:
        assert run.set_tags({"best": True}, remove=["wip"]).tags == {"best": "True"}
        assert run.set_note("baseline").note == "baseline"
        assert run.set_name("lr-0.01").name == "lr-0.01"
        assert run.info.name == "lr-0.01"
    assert client.update_run(run.ref, note="").note is None       # also after the end


def test_bad_metric_names_and_values_raise_before_anything_is_buffered(client: berth.Client, ns: str) -> None:
    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        for bad in ("", ".loss", "lo ss", "x" * 129, "é"):
            with pytest.raises(ValueError):
                run.log({"ok": 1.0, bad: 1.0})
            with pytest.raises(ValueError):
                run.log_metric(bad, 1.0)
        with pytest.raises(ValueError):
            run.log({"ok": 1.0, "loss": "high"})  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            run.log({"ok": 1.0, "loss": None})  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            run.log({"ok": 1.0}, step=1.5)  # type: ignore[arg-type]
        assert run.pending_points == 0 and run.sent_points == 0
        run.log({"ok": 1.0, "a_b.c-d/e": 2.0})
    assert set(client.get_run(run.ref).metrics) == {"ok", "a_b.c-d/e"}


def test_a_batch_the_server_refuses_for_good_is_dropped_and_counted(client: berth.Client, ns: str) -> None:
    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        run.log({"loss": 0.5}, step=0)
        assert run.flush(60)
        client.finish_run(run.ref, "finished")        # someone else ends the run: the server refuses what follows
        for step in range(1, 11):
            run.log({"loss": 0.4}, step=step)
        assert run.flush(60)
        assert (run.refused_batches, run.refused_points, run.sent_points) == (1, 10, 1)
        assert isinstance(run.last_error, berth.Conflict) and run.last_error.code == "run_ended"
    assert client.get_run(run.ref).metrics["loss"].count == 1


def test_points_are_stored_once_when_an_answer_is_lost(server: Server, ns: str) -> None:
    proxy = BreakingProxy(server.url)
    try:
        with berth.Client(proxy.url, token=server.token) as via_proxy:
            with via_proxy.start_run(f"{ns}/fraud", options=FAST) as run:
                # The next batch reaches the server but its answer does not come back, twice: once to the transport's
                # own resend on a fresh connection, once more so that the session has to send the batch again.
                proxy.drop_answers = 2
                for step in range(3000):
                    run.log({"loss": step * 0.5}, step=step)
                assert run.flush(60)
            assert proxy.answers_dropped == 2 and run.duplicate_batches == 1 and run.sent_points == 3000
            assert run.last_error is None
            assert via_proxy.run_series(run.ref, "loss").count == 3000
    finally:
        proxy.close()


def test_identical_points_of_two_sessions_are_both_stored(client: berth.Client, ns: str) -> None:
    # Each batch has an id of its own (not one derived from its points): two workers logging the same value at the
    # same step and millisecond into one run both keep their point.
    with client.start_run(f"{ns}/fraud", options=FAST) as run:
        with client.attach_run(run.ref, options=FAST) as worker:
            for session in (run, worker):
                session.log({"loss": 0.5}, step=7, time=1_765_000_000.0)
                assert session.flush(60)
    assert [(p.step, p.value) for p in client.run_points(run.ref, "loss")] == [(7, 0.5), (7, 0.5)]
    assert run.duplicate_batches == 0 and worker.duplicate_batches == 0


def test_the_buffer_is_bounded_and_counts_dropped_points_while_the_server_is_unreachable(server: Server, ns: str) -> None:
    proxy = BreakingProxy(server.url)
    options = berth.RunSessionOptions(flush_interval=0.05, flush_points=100, max_buffered_points=1000,
                                      retry_delay=0.05, max_retry_delay=0.2, flush_timeout=0.5)
    with berth.Client(proxy.url, token=server.token) as via_proxy:
        run = via_proxy.start_run(f"{ns}/fraud", options=options)
        proxy.close()                                 # from now on every connection is refused
        for step in range(10):
            run.log({"loss": 1.0}, step=step)
        wait_for(lambda: isinstance(run.last_error, berth.ConnectionFailed), "a failed send")
        for step in range(10, 2010):
            run.log({"loss": 1.0}, step=step)
        assert (run.pending_points, run.dropped_points) == (1000, 1010)
        run.log_metric("other", 1.0)
        assert run.dropped_points == 1011
        with pytest.raises(berth.ConnectionFailed):   # the run cannot be ended either; the error says so
            run.close()
        assert run.unsent_points == 1000 and run.closed


def test_log_never_waits_for_the_sender(client: berth.Client, ns: str) -> None:
    started = client.start_run(f"{ns}/fraud", options=FAST)
    started.close()
    hole = BlackHole()
    try:
        with berth.Client(hole.url, token="x", timeout=600) as stuck:
            run = berth.RunSession(stuck, started.info, finish_on_exit=False,
                                   options=berth.RunSessionOptions(flush_points=1000, flush_timeout=0))
            for step in range(1000):
                run.log({"loss": 1.0}, step=step)
            assert hole.received.wait(60)               # the sender is inside a request that will not be answered
            clock = time.perf_counter()
            for step in range(1000, 101000):
                run.log({"loss": 1.0}, step=step)
            spent = time.perf_counter() - clock
            assert run.sent_points == 0 and run.pending_points == 101000, "log() waited for the sender"
            run.close()                                  # flush_timeout 0: gives up at once, breaks the request
            assert run.unsent_points == 101000
            print(f"100,000 log() calls while the sender was stuck: {spent / 100000 * 1e6:.2f} µs each")
    finally:
        hole.close()


@pytest.fixture
def own_server() -> Iterator[Server]:
    """A server of the test's own (it is killed and restarted), which takes at most 4,000 points per batch."""
    root = Path(tempfile.mkdtemp(prefix="berth-python-runs-"))
    instance = Server(root, env={"BERTH_Runs__MaxBatchPoints": "4000"})
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def test_points_are_stored_exactly_once_across_a_server_restart(own_server: Server, ns: str) -> None:
    total = 100_000
    with berth.Client(own_server.url, token=own_server.token) as client:
        with client.start_run(f"{ns}/fraud", options=berth.RunSessionOptions(retry_delay=0.05, max_retry_delay=1.0)) as run:
            for step in range(total // 2):
                run.log({"loss": step / total}, step=step)
            wait_for(lambda: run.sent_points > 0, "the first batches to be stored")
            own_server.kill()                         # mid-logging: batches in flight lose their answers
            for step in range(total // 2, total):
                run.log({"loss": step / total}, step=step)
            wait_for(lambda: isinstance(run.last_error, berth.ConnectionFailed), "a send to fail while the server is down")
            own_server.restart()
        assert run.final is not None and run.final.status == "finished"
        assert (run.sent_points, run.dropped_points, run.refused_points, run.unsent_points) == (total, 0, 0, 0)
        # The server takes 4,000 points per batch: the session halved its batches of 10,000 until they fitted.
        assert run._batch_points <= 4000
        assert client.run_series(run.ref, "loss", points=10).count == total
        steps = [p.step for p in client.run_points(run.ref, "loss")]
        assert len(steps) == total and steps == list(range(total))   # no loss, no duplicate
        assert client.get_run(run.ref).metrics["loss"].count == total


def test_berth_run_id_attaches_to_the_run_berth_run_exec_started(server: Server, ns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "BERTH_URL": server.url, "BERTH_TOKEN": server.token}
    started = server.cli("run", "start", f"{ns}/fraud", "--name", "exec", "--param", "lr=0.1", env=env)
    assert started.returncode == 0, started.stderr
    reference = started.stdout.strip()
    monkeypatch.setenv("BERTH_URL", server.url)
    monkeypatch.setenv("BERTH_TOKEN", server.token)
    monkeypatch.setenv("BERTH_RUN_ID", reference)

    with berth.start_run(options=FAST) as run:       # no model: the one of BERTH_RUN_ID
        assert run.ref == reference and run.attached
        run.log({"loss": 0.5})
    with pytest.raises(RuntimeError):
        with berth.start_run("other/model", tags={"phase": "2"}, params={"lr": "0.1"}, options=FAST) as again:
            assert again.ref == reference
            again.log({"loss": 0.4})
            raise RuntimeError("the training failed")
    with pytest.warns(RuntimeWarning, match="params"):
        berth.start_run(params={"lr": "0.2"}, options=FAST).close()

    with berth.Client(server.url, token=server.token) as client:
        found = client.get_run(reference)
        assert found.status == "running"            # ending it is berth run exec's job
        assert found.tags == {"phase": "2"} and found.metrics["loss"].count == 2 and found.metrics["loss"].last_step == 1
        assert len(list(client.list_runs(f"{ns}/fraud"))) == 1       # attaching created no run
    monkeypatch.setenv("BERTH_RUN_ID", f"{ns}/fraud")
    with pytest.raises(berth.InvalidReference, match="BERTH_RUN_ID"):
        berth.start_run()


def test_a_script_that_never_closes_its_run_ends_it_at_exit(server: Server, ns: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import sys, berth\n"
        "run = berth.start_run(sys.argv[1])\n"
        "print(run.ref, flush=True)\n"
        "for step in range(2500):\n"
        "    run.log({'loss': 1 / (step + 1)}, step=step)\n"
        "if sys.argv[2] == 'fail':\n"
        "    raise ValueError('diverged')\n")
    env = {**os.environ, "BERTH_URL": server.url, "BERTH_TOKEN": server.token, "PYTHONPATH": str(HERE.parent / "src")}
    with berth.Client(server.url, token=server.token) as client:
        for how, status, code in (("ok", "finished", 0), ("fail", "failed", 1)):
            out = subprocess.run([sys.executable, str(script), f"{ns}/fraud", how], capture_output=True, text=True, env=env, timeout=300)
            assert out.returncode == code, out.stderr
            run = client.get_run(out.stdout.strip())
            assert run.status == status and run.metrics["loss"].count == 2500


def test_runs_are_listed_read_downsampled_compared_and_deleted(client: berth.Client, ns: str) -> None:
    refs: List[str] = []
    for lr, slope in ((0.1, 1.0), (0.01, 2.0), (0.001, 3.0)):
        with client.start_run(f"{ns}/fraud", params={"lr": lr}, options=FAST) as run:
            for step in range(5000):
                run.log({"loss": slope / (step + 1), "acc": 1 - slope / (step + 1)}, step=step)
            run.log({"loss": 50.0}, step=2500)                     # a spike that downsampling keeps
        refs.append(run.ref)

    listed = list(client.list_runs(f"{ns}/fraud", page_size=2))
    assert [r.reference for r in listed] == refs[::-1]          # newest first, over two pages
    best = list(client.list_runs(f"{ns}/fraud", filter="params.lr < 0.05", sort="-metrics.acc"))
    assert [r.reference for r in best] == [refs[1], refs[2]]

    series = client.run_series(refs[0], "loss", points=100)
    assert not series.is_raw and series.count == 5001 and series.buckets is not None and len(series.buckets) <= 100
    assert max(b.max or 0 for b in series.buckets) == 50.0 and series.bucket_width is not None
    window = client.run_series(refs[0], "loss", from_step=10, to_step=19)
    assert window.is_raw and [p.step for p in window.points or []] == list(range(10, 20))

    compared = client.compare_runs(refs, ["loss", "acc"], points=50)
    assert [(s.run, s.key) for s in compared.series] == [(r.rsplit("/", 1)[1], k) for r in refs for k in ("loss", "acc")]
    assert all(s.count == (5001 if s.key == "loss" else 5000) for s in compared.series)
    widths = {s.bucket_width for s in compared.series}
    assert len(widths) == 1 and compared.bucket_width in widths
    with pytest.raises(ValueError):
        client.compare_runs([refs[0], f"{ns}/other/{refs[1].rsplit('/', 1)[1]}"], ["loss"])

    client.delete_run(refs[0])
    with pytest.raises(berth.NotFound):
        client.get_run(refs[0])


def test_run_references_parse_as_the_cli_parses_them() -> None:
    assert berth.parse_run_reference("acme/fraud/k3v7q2mxa4bd") == ("acme", "fraud", "k3v7q2mxa4bd")
    assert berth.parse_run_reference("fraud/k3v7q2mxa4bd", "acme") == ("acme", "fraud", "k3v7q2mxa4bd")
    for bad in ("", "acme", "acme/fraud/", "/k3v7", "acme/fraud:3/k3v7", "acme/fraud/a b", "Acme/fraud/x"):
        with pytest.raises(berth.InvalidReference):
            berth.parse_run_reference(bad, "acme" if bad == "acme" else None)
