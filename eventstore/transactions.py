"""Run a unit of work in a transaction of its own, again in a new one when the store refuses it as stale.

An append from a transaction older than the writer of a stream's head raises StaleTransaction
(eventstore.store): the transaction got its id before that head was written, and no retry inside it can
help. Whoever owns the transaction rolls it back and runs the whole unit again (its idempotency record, its
load, its decision), so the second run sees the new head and gets a new transaction id.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connection, transaction

from eventstore.records import StaleTransaction

T = TypeVar("T")
ATTEMPTS = 8


def atomic_with_retries(work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """Run `work` in a new transaction; after StaleTransaction, roll back, pause briefly and run it again.

    Inside an enclosing transaction it cannot start a new one: `work` runs once and StaleTransaction
    propagates to the code that owns that transaction (which may retry the same way). Raises the last
    StaleTransaction when every attempt was refused. `work` must have no effect outside the database
    except through `transaction.on_commit`, which a rollback discards.
    """
    if connection.in_atomic_block:
        return work()
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except StaleTransaction:
            if attempt == attempts:
                raise
            # The writer we collided with is busy on the same stream: a short random pause spreads retries out.
            time.sleep(random.uniform(0, 0.002 * attempt))
    raise AssertionError("unreachable")  # pragma: no cover
