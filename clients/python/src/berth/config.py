"""Where the client finds its server, token and default namespace, the same way the ``berth`` CLI does.

Order: explicit arguments, else the environment (``BERTH_URL``, ``BERTH_TOKEN``, ``BERTH_NAMESPACE``), else the
login the CLI saved with ``berth login`` (``$BERTH_CONFIG``, else ``$XDG_CONFIG_HOME/berth/config.json``, else
``~/.config/berth/config.json``). The saved token is only sent to the saved server: a URL that names another
server gets no token from the file. Servers are compared like the CLI compares them (scheme, host in lower case
with ``localhost``, ``127.0.0.1`` and ``[::1]`` as one host, port with the scheme's default, path without a
trailing ``/``), so ``http://localhost:8282`` uses a login saved for ``http://127.0.0.1:8282``.

The client never writes the config file: ``berth login`` does.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

__all__ = ["Settings", "resolve", "config_file", "cache_dir", "normalise_server", "same_server"]

URL_VARIABLE = "BERTH_URL"
TOKEN_VARIABLE = "BERTH_TOKEN"
NAMESPACE_VARIABLE = "BERTH_NAMESPACE"
CONFIG_VARIABLE = "BERTH_CONFIG"
CACHE_VARIABLE = "BERTH_CACHE_DIR"


@dataclass(frozen=True)
class Settings:
    """The server, token and default namespace a client uses (``token`` and ``namespace`` may be ``None``)."""

    url: str
    token: Optional[str]
    namespace: Optional[str]


def _variable(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def _base(xdg: str, home_folder: str, windows_variable: str) -> str:
    value = _variable(xdg)
    if value and os.path.isabs(value):
        return value
    if sys.platform == "win32":
        return _variable(windows_variable) or os.path.expanduser("~")
    return os.path.join(_variable("HOME") or os.path.expanduser("~"), home_folder)


def config_file() -> str:
    """The CLI's config file: ``$BERTH_CONFIG``, else ``$XDG_CONFIG_HOME/berth/config.json``, else ``~/.config/berth/config.json``."""
    explicit = _variable(CONFIG_VARIABLE)
    if explicit:
        return os.path.abspath(explicit)
    return os.path.join(_base("XDG_CONFIG_HOME", ".config", "APPDATA"), "berth", "config.json")


def cache_dir() -> str:
    """The CLI's cache folder (digest cache, open uploads): ``$BERTH_CACHE_DIR``, else ``$XDG_CACHE_HOME/berth``, else ``~/.cache/berth``."""
    explicit = _variable(CACHE_VARIABLE)
    if explicit:
        return os.path.abspath(explicit)
    return os.path.join(_base("XDG_CACHE_HOME", ".cache", "LOCALAPPDATA"), "berth")


def load_saved() -> Dict[str, Any]:
    """The saved login (``server``, ``token``, ``namespace``); an empty dict without a file."""
    path = config_file()
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ValueError(f"The config file {path} cannot be read ({e}); fix it, or delete it and run 'berth login' again.") from e
    return data if isinstance(data, dict) else {}


def normalise_server(address: str) -> Optional[str]:
    """The form in which two server addresses are compared; ``None`` when it is not an http(s) address."""
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    if host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        host = "localhost"
    if port is None:
        port = 443 if scheme == "https" else 80
    return f"{scheme}://{host}:{port}{parts.path.rstrip('/')}"


def same_server(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two addresses name the same server (see :func:`normalise_server`)."""
    if not a or not b:
        return False
    x, y = normalise_server(a), normalise_server(b)
    return x is not None and x == y


def resolve(url: Optional[str] = None, token: Optional[str] = None, namespace: Optional[str] = None) -> Settings:
    """The settings a client uses: explicit values, else the environment, else the CLI's saved login.

    Raises ``ValueError`` when no server is known.
    """
    saved: Optional[Dict[str, Any]] = None

    def saved_login() -> Dict[str, Any]:
        nonlocal saved
        if saved is None:
            saved = load_saved()
        return saved

    server = url or _variable(URL_VARIABLE) or _string(saved_login().get("server"))
    if not server:
        raise ValueError(
            "No Berth server: pass url=…, set BERTH_URL (and BERTH_TOKEN), or run 'berth login <server url>' once."
        )
    if normalise_server(server) is None:
        raise ValueError(f"'{server}' is not a server address; use http(s)://host[:port][/path], e.g. http://127.0.0.1:8282.")
    if token is None:
        token = _variable(TOKEN_VARIABLE)
    if token is None and same_server(server, _string(saved_login().get("server"))):
        token = _string(saved_login().get("token"))
    if namespace is None:
        namespace = _variable(NAMESPACE_VARIABLE) or _string(saved_login().get("namespace"))
    return Settings(server, token or None, namespace or None)


def _string(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None
