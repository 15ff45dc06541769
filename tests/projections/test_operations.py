"""Operator commands and failure handling, through manage.py commands and the API."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection

from eventstore import store
from projections import checkpoints, operations, runner
from projections.models import AccountSummary, OperatorAction
from projections.projector import Projector
from projections.registry import PROJECTORS
from projections.status import projector_status
from tests.api_client import deposit, open_account
from tests.cli import run
from tests.projections.workers import catch_up_until_settled

pytestmark = pytest.mark.django_db


class Fragile:
    """A projector with a bug: it raises on any deposit referenced "poison" until `fixed`."""

    fixed = False
    applied: list[int] = []

    @classmethod
    def apply(cls, cursor: Any, events, target, *, replay: bool = False) -> None:
        for recorded in events:
            if getattr(recorded.event, "reference", "") == "poison" and not cls.fixed:
                raise ValueError("cannot handle poison")
            cls.applied.append(recorded.position)


@pytest.fixture
def fragile(monkeypatch):
    Fragile.fixed, Fragile.applied = False, []
    projector = Projector(name="fragile", tables=(), apply=Fragile.apply, serves="nothing (a test)", compare={})
    monkeypatch.setitem(PROJECTORS, "fragile", projector)
    return projector


def test_a_poison_event_stops_only_its_projector_until_retried(teller, fragile):
    account = open_account(teller)
    deposit(teller, account, "1.00")
    poison = teller.post(f"/api/accounts/{account}/deposits", {"amount": "2.00", "reference": "poison"}).json()
    deposit(teller, account, "3.00")

    catch_up_until_settled()

    failed = projector_status("fragile")
    assert (failed.status, failed.failed_position) == ("failed", poison["position"])
    assert "cannot handle poison" in failed.last_error
    assert failed.checkpoint < poison["position"]
    assert AccountSummary.objects.get(account_id=account).balance == 600  # the others went on
    api = {entry["name"]: entry for entry in teller.get("/api/projections").json()}
    assert (api["fragile"]["status"], api["fragile"]["failed_position"]) == ("failed", poison["position"])
    assert api["account_summaries"]["status"] == "idle"
    code, listing, _ = run("rebuild_projections", "--list")
    assert code == 0 and "fragile" in listing and "failed" in listing and str(poison["position"]) in listing

    Fragile.fixed = True
    assert run("projections", "retry", "fragile", "--user", "ops")[0] == 0
    catch_up_until_settled()

    assert projector_status("fragile").status == "idle"
    assert poison["position"] in Fragile.applied
    assert OperatorAction.objects.filter(action="retry", projector="fragile", user="ops").exists()


def test_skip_moves_past_exactly_the_failed_event(teller, fragile):
    account = open_account(teller)
    poison = teller.post(f"/api/accounts/{account}/deposits", {"amount": "2.00", "reference": "poison"}).json()
    later = deposit(teller, account, "3.00")
    catch_up_until_settled()

    wrong = run("projections", "skip", "fragile", "--position", str(poison["position"] + 999))
    right = run("projections", "skip", "fragile", "--position", str(poison["position"]), "--user", "ops")
    catch_up_until_settled()

    assert wrong[0] != 0
    assert right[0] == 0
    assert poison["position"] not in Fragile.applied and later["position"] in Fragile.applied
    assert OperatorAction.objects.get(action="skip").detail == {"position": poison["position"]}


def test_verify_projections_finds_a_row_changed_by_hand(teller):
    account = open_account(teller)
    deposit(teller, account, "5.00")
    catch_up_until_settled()
    assert run("verify_projections")[0] == 0

    AccountSummary.objects.filter(account_id=account).update(balance=999_99)
    code, out, _ = run("verify_projections", "account_summaries")

    assert code == 1
    assert "account_summaries: 3 DIFFERING ROWS (vs a rebuild at position" in out  # 2 rows differ from the rebuild,
    assert "balance live 99999 expected 500" in out  # and 1 from the fold of the account's stream


def test_rebuild_repairs_a_damaged_read_model_and_keeps_index_names(teller):
    account = open_account(teller)
    deposit(teller, account, "5.00")
    catch_up_until_settled()
    AccountSummary.objects.filter(account_id=account).update(balance=1)
    indexes_before = _index_names("account_search")

    code, out, _ = run("rebuild_projections", "account_summaries", "account_search", "--user", "ops")

    assert code == 0, out
    assert "rebuilt 2 of 2 projectors" in out
    assert AccountSummary.objects.get(account_id=account).balance == 500
    assert _index_names("account_search") == indexes_before
    assert run("verify_projections")[0] == 0
    assert OperatorAction.objects.filter(action="rebuild", user="ops").count() == 2


def test_a_failed_rebuild_exits_1_and_leaves_the_live_tables_untouched(teller, fragile):
    account = open_account(teller)
    teller.post(f"/api/accounts/{account}/deposits", {"amount": "2.00", "reference": "poison"})
    catch_up_until_settled()
    fragile_before = projector_status("fragile")

    code, _, err = run("rebuild_projections", "fragile")

    assert code == 1 and "FAILED, live tables untouched" in err
    assert projector_status("fragile").failed_position == fragile_before.failed_position
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%%__shadow'")
        assert cursor.fetchone()[0] == 0


def test_rebuilding_several_reads_each_batch_once_and_a_failing_one_fails_alone(teller, fragile, monkeypatch):
    account = open_account(teller)
    for cents in range(1, 8):
        deposit(teller, account, f"{cents}.00")
    teller.post(f"/api/accounts/{account}/deposits", {"amount": "2.00", "reference": "poison"})
    catch_up_until_settled()
    AccountSummary.objects.filter(account_id=account).update(balance=1)
    reads: list[int] = []
    real_read_all = store.read_all

    def counted(after: int = 0, limit: int = 1000) -> list[Any]:
        reads.append(after)
        return real_read_all(after, limit)

    monkeypatch.setattr(store, "read_all", counted)
    names = ["account_summaries", "ledger_entries", "fragile", "account_search"]

    code, out, err = run("rebuild_projections", *names, "--batch-size", "3")

    assert code == 1 and "fragile: FAILED, live tables untouched" in err
    assert "rebuilt 3 of 4 projectors" in out and AccountSummary.objects.get(account_id=account).balance == 3000
    batches = store.count_between(0, 2**62) // 3 + 1
    # One read per batch for all four (the last one finds nothing), then one each under the swap's lock.
    assert len(reads) <= batches + 1 + 3, reads
    assert run("verify_projections", "account_summaries", "ledger_entries", "account_search")[0] == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%%__shadow'")
        assert cursor.fetchone()[0] == 0


def test_list_dry_run_and_usage(teller):
    assert json.loads(run("rebuild_projections", "--list", "--json")[1])[0]["name"] == "account_summaries"
    code, out, _ = run("rebuild_projections", "--all", "--dry-run")
    assert code == 0 and out.count("would rebuild") == len([p for p in PROJECTORS.values() if not p.outbox])
    assert run("rebuild_projections")[0] == 2
    assert run("rebuild_projections", "no_such_projector")[0] == 2


def test_replay_of_an_applied_range_changes_nothing(teller):
    account = open_account(teller)
    first = deposit(teller, account, "5.00")
    deposit(teller, account, "2.00")
    catch_up_until_settled()
    from projections.models import LedgerEntry

    code, out, _ = run("replay", "--projection", "ledger_entries", "--from-position", str(first["position"]))
    again = run("replay", "--projection", "ledger_entries", "--from-position", "1")

    assert (code, again[0]) == (0, 0) and "replayed" in out
    assert list(LedgerEntry.objects.filter(account_id=account).values_list("balance_after", flat=True)) == [500, 700]
    assert run("verify_projections", "ledger_entries")[0] == 0


def test_replay_beyond_the_checkpoint_applies_in_order_and_moves_it_but_never_leaves_a_hole(teller):
    account = open_account(teller)
    catch_up_until_settled()
    reached = projector_status("ledger_entries").checkpoint
    deposit(teller, account, "1.00")  # these two are not applied yet
    second = deposit(teller, account, "2.00")
    only_second = ("--from-position", str(second["position"]), "--to-position", str(second["position"]))

    hole = run("replay", "--projection", "ledger_entries", *only_second)
    dry = run("replay", "--projection", "ledger_entries", *only_second, "--dry-run")
    both = run("replay", "--projection", "ledger_entries", "--from-position", str(reached + 1),
               "--to-position", str(second["position"]))  # fmt: skip

    assert hole[0] == 1 and "1 events between ledger_entries's checkpoint" in hole[2] and "--force" in hole[2]
    assert dry[0] == 0 and "would be skipped for good (refused without --force)" in dry[1]
    assert both[0] == 0 and "replayed 2 events" in both[1]
    assert projector_status("ledger_entries").checkpoint == second["position"]
    from projections.models import LedgerEntry

    assert list(LedgerEntry.objects.filter(account_id=account).values_list("balance_after", flat=True)) == [100, 300]
    assert run("verify_projections", "ledger_entries")[0] == 0


def test_a_forced_replay_skips_the_hole_for_good_and_says_so(teller):
    a, b = open_account(teller), open_account(teller)
    catch_up_until_settled()
    deposit(teller, a, "1.00")
    later = deposit(teller, b, "2.00")

    code, out, _ = run("replay", "--projection", "account_summaries", "--from-position", str(later["position"]),
                       "--to-position", str(later["position"]), "--force", "--user", "ops")  # fmt: skip

    assert code == 0 and "skipped 1 unapplied events before it" in out
    assert OperatorAction.objects.get(action="replay").detail["skipped"] == 1
    assert AccountSummary.objects.get(account_id=b).balance == 200
    assert AccountSummary.objects.get(account_id=a).balance == 0  # the skipped deposit, left out for good
    assert run("verify_projections", "account_summaries")[0] == 1  # and verify says so


def test_replay_a_stream_prints_each_event_and_the_state_after_it(teller):
    account = open_account(teller)
    deposit(teller, account, "5.00")
    deposit(teller, account, "7.50")

    code, out, _ = run("replay", "--stream", account, "--version", "2")
    as_json = json.loads(run("replay", "--stream", account, "--json")[1])

    assert code == 0
    lines = out.splitlines()
    assert "AccountOpened" in lines[1] and lines[2].rstrip().endswith("5.00") and len(lines) == 3
    assert [row["state"]["balance"] for row in as_json] == [0, 500, 1250]


def _index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_runner_takes_nothing_while_another_holds_the_projector(teller):
    open_account(teller)
    projector = PROJECTORS["account_summaries"]
    checkpoints.ensure(projector.name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [runner._LOCK_NAMESPACE, runner.lock_key(projector.name)])
    try:
        from tests.eventstore.sessions import Session

        other = Session()
        try:
            assert other.run(lambda: runner.catch_up(projector)) == 0
        finally:
            other.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [runner._LOCK_NAMESPACE, runner.lock_key(projector.name)]
            )


@pytest.mark.django_db(transaction=True)
def test_a_verify_while_a_rebuild_of_the_same_projector_runs_is_refused_and_others_are_not(teller):
    account = open_account(teller)
    deposit(teller, account, "1.00")
    catch_up_until_settled()
    inside, release, outcome = threading.Event(), threading.Event(), {}

    def slow_progress(done: int) -> None:
        inside.set()
        release.wait(30)

    def rebuild() -> None:
        try:
            outcome["rebuild"] = operations.rebuild(
                PROJECTORS["ledger_entries"], user="ops", batch_size=1, progress=slow_progress
            )
        finally:
            connection.close()

    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        assert inside.wait(30)  # the rebuild is half-way, with its shadow tables in place
        busy = run("verify_projections", "ledger_entries")
        again = run("rebuild_projections", "ledger_entries")
        other = run("verify_projections", "account_summaries")
    finally:
        release.set()
        thread.join(60)

    assert busy[0] == 1 and "cannot verify ledger_entries: a rebuild or verify of it is running" in busy[2]
    assert again[0] == 1 and "cannot rebuild ledger_entries" in again[2]
    assert other[0] == 0
    assert outcome["rebuild"].events > 0 and run("verify_projections", "ledger_entries")[0] == 0
