"""A database session on its own thread (and so its own Django connection), driven step by step.

Lets a test hold one writer's transaction open while another commits, in any interleaving it chooses.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


class Session:
    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the session's thread and return its result (or raise its exception)."""
        return self.wait(self.start(fn))

    def start(self, fn: Callable[[], Any]) -> queue.Queue[Any]:
        """Start `fn` on the session's thread without waiting (it may block on another session's lock)."""
        reply: queue.Queue[Any] = queue.Queue()
        self._jobs.put((fn, reply))
        return reply

    def wait(self, reply: queue.Queue[Any], timeout: float = 30) -> Any:
        """The result of a started `fn` (or raise its exception)."""
        ok, value = reply.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def begin(self) -> None:
        self.run(lambda: connection.set_autocommit(False))

    def commit(self) -> None:
        def commit() -> None:
            connection.commit()
            connection.set_autocommit(True)

        self.run(commit)

    def rollback(self) -> None:
        def rollback() -> None:
            connection.rollback()
            connection.set_autocommit(True)

        self.run(rollback)

    def close(self) -> None:
        self.run(lambda: connection.close())  # resolved on the session thread, not here
        self._jobs.put(None)
        self._thread.join(10)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, reply = job
            try:
                reply.put((True, fn()))
            except BaseException as exc:  # handed back to the test thread
                reply.put((False, exc))
