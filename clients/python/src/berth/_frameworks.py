"""What the framework helpers share: write a model into a temporary folder, then push it."""

from __future__ import annotations

import tempfile
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from .client import Client
from .types import PushResult


def log(
    write: Callable[[str], None],
    model: str,
    *,
    client: Optional[Client],
    auto_params: Mapping[str, Any],
    auto_tags: Mapping[str, Any],
    version: Optional[str],
    description: Optional[str],
    metrics: Optional[Mapping[str, float]],
    params: Optional[Mapping[str, Any]],
    tags: Optional[Mapping[str, Any]],
    aliases: Optional[Sequence[str]],
    lineage: Any,
    push_options: Mapping[str, Any],
) -> PushResult:
    """Calls ``write(folder)`` on a fresh temporary folder and pushes the folder with the merged metadata
    (what the caller gives wins over what the helper found)."""
    merged_params: Dict[str, Any] = {str(k): _short(v) for k, v in auto_params.items()}
    merged_params.update(params or {})
    merged_tags: Dict[str, Any] = {k: v for k, v in auto_tags.items() if v is not None}
    merged_tags.update(tags or {})
    with tempfile.TemporaryDirectory(prefix="berth-model-") as folder:
        write(folder)
        return (client or Client()).push(
            folder, model, version=version, description=description, metrics=metrics, params=merged_params or None,
            tags=merged_tags or None, aliases=aliases, lineage=lineage, digest_cache=False, **dict(push_options))


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 1000 else text[:997] + "..."
