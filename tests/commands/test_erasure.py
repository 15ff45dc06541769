"""Erasure by crypto-shredding: a customer's holder details are sealed in events and snapshots; forgetting the
customer destroys their key and records the erasure, after which every event still loads, the API shows
"erased", rebuilds and verification pass, and the plaintext is in no table, no cache entry and no log line."""

from __future__ import annotations

import logging
import uuid
from typing import cast

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from commands.domain import accounts
from commands.services import load_account
from eventstore import personal, store
from gateway.optional_redis import optional_redis
from projections.jobs import catch_up_everything
from tests.api_client import PASSWORD, deposit, open_account
from tests.cli import run

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def secrets_of_alice(teller, settings):
    """An account of alice's whose holder details were given twice, with snapshots, a notification, a search
    and a cached read along the way; returns (account_id, the plaintext tokens that must disappear)."""
    settings.LEDGER_SNAPSHOT_EVERY = 2
    first, second = (f"q{uuid.uuid4().hex[:10]}" for _ in range(2))
    account_id = open_account(teller, holder_name=f"Zyx {first}", email=f"{first}@example.org")
    deposit(teller, account_id, "2000.00")
    response = teller.post(f"/api/accounts/{account_id}/withdrawals", {"amount": "1500.00"})
    assert response.status_code == 201, response.content  # above the alert threshold: a notification
    details = {"holder_name": f"Zyx {second}", "email": f"{second}@example.org"}
    response = teller.post(f"/api/accounts/{account_id}/holder", details)
    assert response.status_code == 201, response.content
    catch_up_everything()  # whatever wake-ups earlier tests left pending
    assert teller.get(f"/api/accounts/{account_id}").json()["holder_name"] == f"Zyx {second}"  # cached now
    found = teller.get("/api/accounts", {"q": second}).json()["items"]
    assert [item["account_id"] for item in found] == [account_id]
    return account_id, (first, second)


def tables_holding(tokens: tuple[str, ...]) -> list[str]:
    """Every table of the database (read models, search index, outbox, keys, the log) holding a token."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [name for (name,) in cursor.fetchall()]
        found = []
        for table in tables:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE ANY(%s)', [[f"%{token}%" for token in tokens]]
            )
            if cursor.fetchone()[0]:
                found.append(table)
    assert "events" in tables and "account_search" in tables and "personal_keys" in tables
    return found


def cache_entries_holding(tokens: tuple[str, ...]) -> list[str]:
    client = optional_redis.client()
    found = []
    for key in client.scan_iter():
        read = {
            b"string": lambda k: client.get(k),
            b"hash": lambda k: client.hgetall(k),
            b"list": lambda k: client.lrange(k, 0, -1),
            b"set": lambda k: client.smembers(k),
            b"zset": lambda k: client.zrange(k, 0, -1),
        }.get(cast(bytes, client.type(key)), lambda k: client.dump(k))
        value = repr(read(key))  # bytes inside show their UTF-8 text (the pickled cache rows hold it raw)
        if any(token in value for token in tokens):
            found.append(key.decode())
    return found


def test_the_holder_details_are_sealed_in_events_and_snapshots(secrets_of_alice):
    account_id, tokens = secrets_of_alice
    assert tables_holding(tokens) == ["account_search", "account_summaries", "notification_accounts", "notifications"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM snapshots WHERE stream_id = %s", [f"account-{account_id}"])
        assert cursor.fetchone()[0] >= 1  # a snapshot exists, and holds no plaintext either
    history = store.load(f"account-{account_id}")
    assert history.events[0].data["holder_name"] == f"Zyx {tokens[0]}"  # opened with alice's key


def test_a_snapshot_and_the_key_that_opens_it_load_in_one_statement_until_the_key_is_destroyed(secrets_of_alice):
    account_id, tokens = secrets_of_alice
    stream = accounts.account_stream(uuid.UUID(account_id))

    with CaptureQueriesContext(connection) as before:
        loaded = load_account(stream)
    with transaction.atomic():
        personal.forget("alice")
        with CaptureQueriesContext(connection) as after:
            forgotten = load_account(stream)
        transaction.set_rollback(True)

    assert loaded.history.snapshot is not None and len(before) == 1, [query["sql"] for query in before]
    assert loaded.state.holder_name == f"Zyx {tokens[1]}"
    assert (forgotten.state.holder_name, forgotten.state.email, len(after)) == ("erased", "erased", 1)


def test_forgetting_a_customer_erases_them_everywhere_and_everything_still_checks_out(
    secrets_of_alice, teller, client, caplog
):
    caplog.set_level(logging.DEBUG)
    account_id, tokens = secrets_of_alice

    code, out, err = run("forget_customer", "alice", "--user", "dpo")
    assert code == 0, err
    assert "erasure recorded on" in out and "key(s) destroyed" in out
    catch_up_everything()

    # Every event still loads; the state and the API say "erased"; the erasure is an event of its own.
    stream = accounts.account_stream(uuid.UUID(account_id))
    history = store.load(stream)
    assert [recorded.type for recorded in history.events][-1] == "HolderDetailsErased"
    assert history.events[0].data["holder_name"] == personal.ERASED == accounts.ERASED
    state = load_account(stream).state
    assert (state.holder_name, state.email, state.balance) == ("erased", "erased", 50000)
    summary = teller.get(f"/api/accounts/{account_id}").json()
    assert (summary["holder_name"], summary["email"]) == ("erased", "erased")
    assert teller.get("/api/accounts", {"q": tokens[1]}).json()["items"] == []
    events = teller.get(f"/api/accounts/{account_id}/events").json()["items"]
    assert events[0]["data"]["holder_name"] == "erased"
    client.login(username="teller", password=PASSWORD)
    for page in (f"/accounts/{account_id}/", f"/accounts/{account_id}/history/", "/events/"):
        html = client.get(page).content.decode()
        assert not any(token in html for token in tokens), page
    assert "erased" in client.get(f"/accounts/{account_id}/").content.decode()

    # Rebuilds and every verification pass.
    for command in (["verify_eventstore"], ["verify_projections"], ["rebuild_projections", "--all"]):
        code, out, err = run(*command)
        assert code == 0, (command, out, err)
    code, out, err = run("verify_projections")
    assert code == 0, out

    # The plaintext is nowhere: no table (the key table holds no key any more), no cache entry, no log line.
    assert tables_holding(tokens) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM personal_keys WHERE subject = 'alice' AND key IS NOT NULL")
        assert cursor.fetchone()[0] == 0
    assert cache_entries_holding(tokens) == []
    assert not any(token in caplog.text for token in tokens)


def test_forgetting_twice_erases_nothing_more_and_an_unknown_customer_is_a_clear_error(secrets_of_alice, teller):
    account_id, _ = secrets_of_alice
    assert run("forget_customer", "alice")[0] == 0
    for _ in range(2):  # the account goes on, with a snapshot of its erased state: that needs no new key
        deposit(teller, account_id, "1.00")
    code, out, _ = run("forget_customer", "alice")
    assert (code, out.strip()) == (0, "alice: erased before; nothing left to erase")
    code, _, err = run("forget_customer", "nobody-here")
    assert code == 1 and "no customer 'nobody-here'" in err


def test_an_operator_forgets_a_customer_from_the_ops_page_after_typing_the_name_twice(secrets_of_alice, client, users):
    account_id, tokens = secrets_of_alice
    client.login(username="operator", password=PASSWORD)
    refused = client.post("/ops/forget-customer/", {"customer": "alice", "confirm": "alicf"}, follow=True)
    assert "Type the customer" in refused.content.decode()
    assert load_account(accounts.account_stream(uuid.UUID(account_id))).state.holder_name == f"Zyx {tokens[1]}"
    done = client.post("/ops/forget-customer/", {"customer": "alice", "confirm": "alice"}, follow=True)
    assert "erasure recorded on 1 account(s), 1 key(s) destroyed" in done.content.decode()
    assert load_account(accounts.account_stream(uuid.UUID(account_id))).state.holder_name == "erased"
