"""verify_eventstore on rows the store's own append would never write (inside rolled-back test transactions)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.eventstore.raw import insert_raw_events
from tests.eventstore.toy import ToyCredited  # noqa: F401  (registers the toy types these rows use)

pytestmark = pytest.mark.django_db


def test_a_stream_whose_positions_go_against_its_versions_is_reported(stream_id, capsys):
    """The shape the old order left behind: version 2 stored at a lower position than version 1."""
    insert_raw_events(stream_id, [("ToyCredited", {"amount": 1}), ("ToyCredited", {"amount": 2})], offsets=[5, 3])

    with pytest.raises(SystemExit) as exit_:
        call_command("verify_eventstore")

    out = capsys.readouterr().out
    assert exit_.value.code == 1
    assert f"PROBLEM {stream_id} version 2" in out and "read order" in out


def test_a_clean_store_verifies(stream_id, capsys):
    insert_raw_events(stream_id, [("ToyCredited", {"amount": 1}), ("ToyCredited", {"amount": 2})])

    call_command("verify_eventstore")

    assert "problems: 0" in capsys.readouterr().out
