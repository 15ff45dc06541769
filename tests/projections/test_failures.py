"""Projectors that fail visibly: an event the database refuses is retried with back-off and then fails the
projector (position, stream, version, error), while a transient fault is retried without limit and shows in
last_error meanwhile. Other projectors go on; a retry after the fix applies the rows exactly once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from projections.jobs import catch_up_everything
from projections.models import AccountSearch, ProjectionCheckpoint
from projections.status import checkpoint, projector_status
from tests.api_client import deposit, open_account
from tests.eventstore.sessions import Session
from tests.projections.workers import catch_up_until_settled

REFUSING_TRIGGER = """
CREATE FUNCTION refuse_holder() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.holder_name = 'Refused Holder' THEN RAISE EXCEPTION 'refused by a trigger'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_holder BEFORE INSERT OR UPDATE ON account_search FOR EACH ROW EXECUTE FUNCTION refuse_holder();
"""


def time_passes(name: str) -> None:
    """The back-off has run out (instead of sleeping through it)."""
    ProjectionCheckpoint.objects.filter(name=name).update(retry_at=None)


@pytest.mark.django_db
def test_a_write_the_database_refuses_is_retried_with_back_off_then_fails_the_projector(teller, settings):
    settings.LEDGER_PROJECTION_ATTEMPTS, settings.LEDGER_PROJECTION_RETRY_MS = 3, 60_000
    with connection.cursor() as cursor:
        cursor.execute(REFUSING_TRIGGER)
    fine = open_account(teller, holder_name="Fine Holder")
    refused = open_account(teller, holder_name="Refused Holder")
    later = deposit(teller, fine, "1.00")

    catch_up_everything()
    catch_up_everything()  # within the back-off: no new attempt
    first = projector_status("account_search")

    assert (first.status, first.failed_position) == ("running", None)
    assert f"account-{refused} version 1" in first.last_error and "refused by a trigger" in first.last_error
    assert "attempt 1 of 3; again in 60 s" in first.last_error
    assert checkpoint("account_search") < later["position"] <= checkpoint("account_summaries")  # others go on
    assert AccountSearch.objects.filter(account_id=fine).exists()  # the events before it are in

    for _ in range(2):
        time_passes("account_search")
        catch_up_everything()
    failed = projector_status("account_search")

    assert failed.status == "failed" and failed.failed_position is not None
    assert "(after 3 attempts)" in failed.last_error and f"account-{refused} version 1" in failed.last_error

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_holder ON account_search")
    call_command("projections", "retry", "account_search", "--user", "ops", stdout=io.StringIO())
    catch_up_until_settled()

    assert projector_status("account_search").status == "idle"
    assert AccountSearch.objects.filter(account_id=refused).count() == 1
    call_command("verify_projections", "account_search", stdout=io.StringIO(), stderr=io.StringIO())  # exit 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_transient_fault_is_retried_without_limit_and_shows_in_last_error_meanwhile(teller, async_queues):
    account = open_account(teller)
    catch_up_everything()
    later = deposit(teller, account, "1.00")
    holder = Session()
    try:
        holder.begin()
        holder.run(lambda: connection.cursor().execute("LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE"))
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '50ms'")
        for _ in range(3):
            catch_up_everything()
        during = projector_status("ledger_entries")
        others = checkpoint("account_summaries")
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert (during.status, during.failed_position) == ("running", None)
    assert during.last_error.startswith("transient, will retry: OperationalError") and "lock" in during.last_error
    assert during.checkpoint < later["position"] <= others

    catch_up_everything()
    after = projector_status("ledger_entries")
    assert (after.status, after.last_error, after.checkpoint) == ("idle", "", later["position"])
