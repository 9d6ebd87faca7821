"""What the client shares with the ``berth`` CLI: the saved login (``berth login`` once serves both) and the
digest cache (a file either of them hashed is not hashed again by the other)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Dict

import pytest

import berth
from berth import config
from conftest import Server, free_port, write


def cli_env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BERTH_") or k in ("BERTH_CONFIG", "BERTH_CACHE_DIR")}


def test_the_login_berth_login_saved_is_used(server: Server, client: berth.Client, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client.push(str(write(tmp_path / "m" / "w.bin", b"x")), f"{ns}/fraud", progress=False)
    login = server.cli("login", server.url, "--token-stdin", "--namespace", ns, env=cli_env(), input=server.token + "\n")
    assert login.returncode == 0, login.stderr
    saved = json.loads(Path(os.environ["BERTH_CONFIG"]).read_text())
    assert saved["token"] == server.token

    with berth.Client() as from_login:
        assert from_login.url == saved["server"] and from_login.namespace == ns
        assert from_login.whoami().name == "admin"
        assert from_login.get_version("fraud:1").model == "fraud"  # the saved default namespace

    # localhost, 127.0.0.1 and [::1] name one host, with or without a trailing slash.
    monkeypatch.setenv("BERTH_URL", server.url.replace("127.0.0.1", "localhost") + "/")
    with berth.Client() as via_localhost:
        assert via_localhost.whoami().name == "admin"


def test_a_url_naming_another_server_gets_no_saved_token(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(Path(os.environ["BERTH_CONFIG"]), json.dumps({"server": server.url, "token": "berth_saved", "namespace": "acme"}).encode())
    other = f"http://127.0.0.1:{free_port()}"
    assert config.resolve(other).token is None
    monkeypatch.setenv("BERTH_URL", other)
    assert config.resolve() == config.Settings(other, None, "acme")
    monkeypatch.setenv("BERTH_TOKEN", "berth_env")
    assert config.resolve().token == "berth_env"
    assert config.resolve(server.url, "berth_explicit", "team").token == "berth_explicit"
    monkeypatch.delenv("BERTH_URL")
    monkeypatch.delenv("BERTH_TOKEN")
    assert config.resolve() == config.Settings(server.url, "berth_saved", "acme")
    monkeypatch.setenv("BERTH_NAMESPACE", "team")
    assert config.resolve().namespace == "team"


def test_no_server_anywhere_says_how_to_give_one() -> None:
    with pytest.raises(ValueError) as raised:
        berth.Client()
    assert "BERTH_URL" in str(raised.value) and "berth login" in str(raised.value)


def test_servers_compare_like_the_cli_compares_them() -> None:
    assert config.same_server("http://localhost:8282", "http://127.0.0.1:8282/")
    assert config.same_server("http://[::1]:8282/", "http://LOCALHOST:8282")
    assert config.same_server("https://Berth.Example.com", "https://berth.example.com:443/")
    assert config.same_server("http://h/berth/", "http://h:80/berth")
    assert not config.same_server("http://h:8282", "https://h:8282")
    assert not config.same_server("http://h:8282", "http://h:8283")
    assert not config.same_server("http://h/a", "http://h/b")


def old_file(path: Path, data: bytes) -> Path:
    write(path, data)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    return path


def rewrite_in_place(path: Path, data: bytes) -> None:
    """Other bytes, same size and modification time: only a digest cache could mistake it for the old file."""
    stat = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_file_the_cli_hashed_is_not_hashed_again(server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    weights = old_file(tmp_path / "model" / "weights.bin", os.urandom(50_000))
    env = {**cli_env(), "BERTH_URL": server.url, "BERTH_TOKEN": server.token}
    pushed = server.cli("push", str(tmp_path / "model"), f"{ns}/fraud", "--json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    rewrite_in_place(weights, os.urandom(50_000))
    result = client.push(str(tmp_path / "model"), f"{ns}/fraud", progress=False)
    # The CLI's entry was trusted: no hashing, and the (stale) digest names the version the CLI pushed.
    assert result.files_hashed == 0 and result.unchanged and result.version.number == 1


def test_a_file_the_client_hashed_is_not_hashed_again_by_the_cli(server: Server, client: berth.Client, ns: str, tmp_path: Path) -> None:
    weights = old_file(tmp_path / "model" / "weights.bin", os.urandom(50_000))
    client.push(str(tmp_path / "model"), f"{ns}/fraud", progress=False)
    rewrite_in_place(weights, os.urandom(50_000))
    env = {**cli_env(), "BERTH_URL": server.url, "BERTH_TOKEN": server.token}
    pushed = server.cli("push", str(tmp_path / "model"), f"{ns}/fraud", "--json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["unchanged"] is True  # it read the entry this client wrote
