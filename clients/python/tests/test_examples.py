"""The example training script and the README's quick start run as written against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import berth
from conftest import HERE, REPO, Server


def run(args: "list[str]", server: Server, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BERTH_URL": server.url, "BERTH_TOKEN": server.token, "PYTHONPATH": str(HERE.parent / "src")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_the_example_trains_in_a_run_registers_the_run_and_promotes_the_version(server: Server, client: berth.Client, ns: str) -> None:
    out = run([str(REPO / "examples" / "python" / "train_fraud.py"), "--model", f"{ns}/fraud", "--stage", "staging"], server, REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    version = client.get_version(f"{ns}/fraud:staging", files=True)
    assert version.metrics["auc"] > 0.8 and 0 < version.metrics["accuracy"] <= 1
    assert version.aliases == ["candidate"] and version.tags["framework"] == "scikit-learn"
    assert [f.path for f in version.files or []] == ["model.pkl"]  # the run's model/ folder, prefix stripped
    assert version.lineage.git_commit and version.lineage.datasets[0].uri.startswith("synthetic://")
    trained = client.get_run(f"{ns}/fraud/{version.lineage.run_id}")
    assert trained.status == "finished" and trained.metrics["auc"].count == 20
    assert trained.metrics["auc"].last == version.metrics["auc"] and trained.params["epochs"] == "20"
    assert [f.path for f in client.list_run_files(trained.reference)] == ["evaluation.json", "model/model.pkl"]
    assert f"registered {ns}/fraud:1 from run {trained.id}" in out.stdout and f"{ns}/fraud:1 is in staging (applied)" in out.stdout

    again = run([str(REPO / "examples" / "python" / "train_fraud.py"), "--model", f"{ns}/fraud", "--stage", "production"], server, REPO)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(0 bytes uploaded)" in again.stdout  # the same seed trains the same bytes: nothing is sent again
    second = client.get_version(f"{ns}/fraud:production")
    assert second.number == 2 and second.lineage.run_id not in (None, trained.id)
    assert second.manifest_digest == version.manifest_digest


def quick_start() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("\n## Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_readme_quick_start_runs_as_written(server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    script = quick_start()
    assert len(script.strip().splitlines()) <= 13
    (tmp_path / "quick_start.py").write_text(script.replace('"acme/', f'"{ns}/'))
    out = run([str(tmp_path / "quick_start.py")], server, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    pulled = tmp_path / "deploy" / "fraud" / "model.pkl"
    assert pulled.is_file()
    version = client.get_version(f"{ns}/fraud:staging")
    assert version.metrics["accuracy"] > 0.5
    logged = client.get_run(f"{ns}/fraud/{version.lineage.run_id}")
    assert logged.status == "finished" and logged.metrics["accuracy"].count == 20
