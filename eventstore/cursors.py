"""A cursor for the statements run on every command, read and projection batch.

Django's PostgreSQL cursors bind parameters on the client: the values are quoted into the SQL text, so no two
statements share a text and PostgreSQL plans each one again. For the hot statements that planning was most of
their time (the snapshot-and-tail load of a command: 1.6 ms a run unprepared, 0.8 ms prepared; the API's
authentication query 0.8 against 0.25 ms; bench B2 and B9). `prepared()` gives a cursor that binds on the
server, so psycopg prepares a statement from its fifth run on a connection (the `prepare_threshold` that
config/settings.py gives Django's connection; Django's own cursors never prepare) and PostgreSQL keeps the
plan for the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg.types.datetime import TimestamptzLoader


@contextmanager
def prepared() -> Iterator[Any]:
    """A cursor on Django's connection, in the caller's transaction if there is one, that binds parameters on
    the server. Statements must use `%s` placeholders only where PostgreSQL accepts a parameter (values, not
    names), and cast a parameter whose type PostgreSQL cannot infer.

    It goes through Django's cursor wrapper, so errors come out as Django's (`django.db.OperationalError` and
    kin, which the API answers with 503) and the query is logged where Django logs queries.

    Its `timestamptz` values are parsed by psycopg's C loader: Django's loader subclasses the pure-Python one
    (to attach the connection's time zone), which was a tenth of decoding an event (bench B5). Both give the
    same aware datetime, since the session's time zone is UTC (settings.TIME_ZONE; Django sets it on connect)
    and psycopg maps UTC to `datetime.timezone.utc` as Django does.
    """
    with connection.cursor() as made:  # Django's checks first: the connection's health, its thread
        bound = psycopg.Cursor(connection.connection)
        bound.adapters.register_loader("timestamptz", TimestamptzLoader)
        wrapper = _LoggedAsWritten if isinstance(made, CursorDebugWrapper) else CursorWrapper
        with wrapper(bound, connection) as cursor:
            yield cursor


class _LoggedAsWritten(CursorDebugWrapper):
    """Logs the statement as written, with its `%s`: Django asks the cursor for the text it sent, which a
    server-bound cursor does not keep (the log would hold None)."""

    @contextmanager
    def debug_sql(
        self, sql: Any = None, params: Any = None, use_last_executed_query: bool = False, many: bool = False
    ) -> Iterator[None]:
        with super().debug_sql(sql, params, use_last_executed_query=False, many=many):
            yield
