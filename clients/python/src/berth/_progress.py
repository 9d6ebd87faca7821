"""The progress of a transfer: a line on the terminal, a callback, or nothing."""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, Optional, TextIO, Union

ProgressCallback = Callable[[str, int, int], None]
ProgressOption = Union[None, bool, ProgressCallback]

__all__ = ["Progress", "ProgressCallback", "ProgressOption"]


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


class Progress:
    """Counts bytes of one phase (``hashing``, ``uploading``, ``downloading``, ``done``) from any thread.

    ``option``: ``None`` shows a line on stderr when it is a terminal, ``True`` always, ``False`` never; a callable
    is called with ``(phase, done, total)`` instead, after every chunk (1–8 MiB) and at each phase's start.
    """

    def __init__(self, option: ProgressOption, label: str, stream: Optional[TextIO] = None) -> None:
        self._stream = stream or sys.stderr
        self._callback: Optional[ProgressCallback] = option if callable(option) else None
        if option is None:
            try:
                self._line = self._stream.isatty()
            except (AttributeError, ValueError):
                self._line = False
        else:
            self._line = option is True
        self._label = label
        self._lock = threading.Lock()
        self._phase = ""
        self._total = 0
        self._done = 0
        self._files = 0
        self._files_done = 0
        self._started = time.monotonic()
        self._shown = 0.0
        self._width = 0

    @property
    def enabled(self) -> bool:
        """Whether anything is shown or called."""
        return self._line or self._callback is not None

    def start(self, phase: str, total: int, files: int) -> None:
        """Begins a phase of ``total`` bytes over ``files`` files."""
        with self._lock:
            self._phase, self._total, self._done, self._files, self._files_done = phase, total, 0, files, 0
            self._started = time.monotonic()
        self._show(force=True)

    def add(self, n: int) -> None:
        """Counts ``n`` more bytes (negative to take back bytes an attempt sent that the server did not keep)."""
        with self._lock:
            self._done += n
        if self.enabled:
            self._show()

    def file_done(self) -> None:
        """Counts one more file finished."""
        with self._lock:
            self._files_done += 1
        self._show()

    def finish(self) -> None:
        """Ends the last phase (and the line)."""
        self._show(force=True)
        if self._line and self._width:
            with self._lock:
                self._stream.write("\n")
                self._stream.flush()
                self._width = 0

    def _show(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if not force and self._callback is None and now - self._shown < 0.1:
                return
            self._shown = now
            phase, done, total = self._phase, self._done, self._total
            if self._callback is not None:
                callback = self._callback
            else:
                callback = None
                elapsed = max(now - self._started, 1e-6)
                text = f"{self._label}: {phase} {_size(max(done, 0))} of {_size(total)}"
                if total and phase != "done":
                    text += f" ({100 * max(done, 0) // max(total, 1)} %, {max(done, 0) / elapsed / 1e6:.0f} MB/s)"
                if self._files > 1:
                    text += f", {self._files_done}/{self._files} files"
                pad = max(self._width - len(text), 0)
                self._width = len(text)
                self._stream.write("\r" + text + " " * pad)
                self._stream.flush()
        if callback is not None:
            callback(phase, done, total)
