"""Exceptions raised by the Berth client.

Every failure answer of a Berth server is an RFC 9457 problem with a stable ``code``; the client raises
it as a :class:`BerthError` subclass chosen by the HTTP status (and, for a few codes, by the code), so
callers catch what they care about::

    try:
        client.get_version("acme/fraud:production")
    except berth.NotFound as e:
        print(e.code, e.detail, e.request_id)

Problems detected on the client (a download that does not verify, files in the way of a pull, a server
that cannot be reached) are :class:`BerthError` too, with ``status`` ``None``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "BerthError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Gone",
    "PreconditionFailed",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "DigestMismatch",
    "GateFailed",
    "QuotaExceeded",
    "PullConflict",
    "ConnectionFailed",
    "InvalidReference",
]

_STANDARD_MEMBERS = ("type", "title", "status", "detail", "instance", "code", "requestId")


class BerthError(Exception):
    """Any error of the Berth client.

    Attributes:
        status: the HTTP status of the server's answer, or ``None`` for a problem found by the client.
        code: the stable machine-readable code, e.g. ``model_not_found`` (docs/errors.md lists them).
        title: the problem's short title, if any.
        detail: what went wrong and what to do, for people.
        request_id: the id that finds the request in the server's log (``None`` for client-side errors).
        extensions: the problem's other members, e.g. ``missing``, ``offset``, ``expected``, ``actual``.
    """

    def __init__(
        self,
        code: str,
        detail: Optional[str] = None,
        *,
        status: Optional[int] = None,
        title: Optional[str] = None,
        request_id: Optional[str] = None,
        extensions: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.extensions: Dict[str, Any] = dict(extensions or {})
        super().__init__(self._message())

    def _message(self) -> str:
        text = self.detail or self.title or (f"The server answered {self.status}." if self.status else self.code)
        text = f"{text} ({self.code})"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.code, self.detail, self.status, self.title, self.request_id, self.extensions))


def _rebuild(cls: Type[BerthError], code: str, detail: Optional[str], status: Optional[int], title: Optional[str],
             request_id: Optional[str], extensions: Dict[str, Any]) -> BerthError:
    return cls(code, detail, status=status, title=title, request_id=request_id, extensions=extensions)


class BadRequest(BerthError):
    """400: the request was invalid (a name, a selector, a filter, JSON, a path …)."""


class Unauthorized(BerthError):
    """401: no token, or a token the server does not accept (``token_invalid``, ``token_expired`` …)."""


class Forbidden(BerthError):
    """403: the token or its user's role may not do this (``forbidden``, ``self_approval`` …)."""


class NotFound(BerthError):
    """404: the namespace, model, version, alias, request … does not exist (or the caller may not see it)."""


class Conflict(BerthError):
    """409: the change conflicts with the current state (``version_exists``, ``blobs_missing`` …)."""


class Gone(BerthError):
    """410: the version was deleted (``version_deleted``)."""


class PreconditionFailed(BerthError):
    """412: the resource changed since its ETag was read (``precondition_failed``)."""


class PayloadTooLarge(BerthError):
    """413: a body larger than the server accepts (``body_too_large``)."""


class RateLimited(BerthError):
    """429: too many requests; :attr:`retry_after` says how many seconds to wait."""

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds to wait before trying again, when the server said."""
        value = self.extensions.get("retryAfter")
        return float(value) if isinstance(value, (int, float)) else None


class ServerError(BerthError):
    """5xx: the server failed or a backing store is unavailable; usually worth retrying later."""


class DigestMismatch(BadRequest):
    """Bytes that do not match their SHA-256 digest: refused by the server on upload, or found by a pull.

    ``extensions`` holds ``expected`` and ``actual`` when known.
    """


class GateFailed(Conflict):
    """409 ``gate_failed``: the version does not satisfy the stage's gate; ``extensions['failures']`` says why."""


class QuotaExceeded(Conflict):
    """409 ``quota_exceeded``: the push would pass the namespace's quota; nothing was stored."""


class PullConflict(BerthError):
    """Files, links or folders in the way of a pull (code ``pull_conflict``); nothing was written.

    ``conflicts`` lists ``(path, reason)`` pairs. Pull with ``force=True`` to replace them.
    """

    def __init__(self, folder: str, reference: str, conflicts: "list[tuple[str, str]]") -> None:
        self.folder = folder
        self.reference = reference
        self.conflicts = list(conflicts)
        shown = "; ".join(f"{path}: {reason}" for path, reason in self.conflicts[:10])
        more = f" (and {len(self.conflicts) - 10} more)" if len(self.conflicts) > 10 else ""
        super().__init__(
            "pull_conflict",
            f"Pulling {reference} into {folder} would replace what is there: {shown}{more}. "
            "Nothing was written; pull with force=True to replace them.",
            extensions={"conflicts": [{"path": p, "reason": r} for p, r in self.conflicts]},
        )

    def __reduce__(self) -> Any:
        return (PullConflict, (self.folder, self.reference, self.conflicts))


class ConnectionFailed(BerthError):
    """The server could not be reached, or the connection kept breaking after every retry (``connection_failed``)."""


class InvalidReference(BerthError, ValueError):
    """A model or version reference that does not follow ``[namespace/]model[:selector]`` (``invalid_reference``)."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_reference", detail)

    def __reduce__(self) -> Any:
        return (InvalidReference, (self.detail,))


_BY_STATUS: Dict[int, Type[BerthError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    429: RateLimited,
}

_BY_CODE: Dict[str, Type[BerthError]] = {
    "digest_mismatch": DigestMismatch,
    "gate_failed": GateFailed,
    "quota_exceeded": QuotaExceeded,
}


def from_response(status: int, reason: str, body: bytes) -> BerthError:
    """The exception for an error answer: its problem document, or the status and text when it is not one."""
    fallback = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, f"http_{status}")
    problem: Any = None
    try:
        problem = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        problem = None
    if isinstance(problem, dict):
        code: str = problem["code"] if isinstance(problem.get("code"), str) else fallback
        cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (ServerError if status >= 500 else BerthError)
        return cls(
            code,
            _text(problem.get("detail")),
            status=status,
            title=_text(problem.get("title")),
            request_id=_text(problem.get("requestId")),
            extensions={k: v for k, v in problem.items() if k not in _STANDARD_MEMBERS},
        )
    text = body[:500].decode("utf-8", "replace").strip()
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else BerthError)
    return cls(fallback, text or None, status=status, title=reason or None)


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None
