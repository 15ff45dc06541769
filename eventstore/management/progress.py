"""Progress for long operator commands: a bar with events/s and ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import Protocol

_WIDTH = 30


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


class ProgressReporter:
    def __init__(self, out: Writer, label: str, total: int, *, tty: bool) -> None:
        self.out, self.label, self.total, self.tty = out, label, max(total, 1), tty
        self.started = self._last = time.monotonic()
        self.done = 0

    def __call__(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last = now
        self._print(final=False)

    def finish(self) -> None:
        self._print(final=True)

    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-6)

    def _print(self, *, final: bool) -> None:
        rate = self.rate()
        eta = max(self.total - self.done, 0) / rate if rate else 0.0
        text = f"{self.label}: {self.done:,}/{self.total:,} events, {rate:,.0f} events/s"
        if self.tty:
            filled = min(_WIDTH, int(_WIDTH * self.done / self.total))
            bar = "#" * filled + "." * (_WIDTH - filled)
            self.out.write(f"\r{self.label} [{bar}] {self.done:,}/{self.total:,} {rate:,.0f} ev/s ETA {eta:,.0f}s ")
            if final:
                self.out.write("\n")
        else:
            self.out.write(text + ("" if final else f", about {eta:,.0f}s left") + "\n")
        self.out.flush()
