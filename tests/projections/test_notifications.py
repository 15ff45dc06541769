"""Notifications: large withdrawals and transfers go into an outbox with the projector's checkpoint, and are
delivered by e-mail and webhook with retries; replays, rebuilds and abandoned deliveries never send one twice
and never lose one (the tests count deliveries)."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.management import call_command

from eventstore import store
from projections import outbox
from projections.jobs import catch_up_everything
from projections.models import Notification
from tests.api_client import deposit, open_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(teller) -> tuple[str, str]:
    """Two accounts with money enough for large movements."""
    a, b = open_account(teller, holder_name="Ada Rich", email="ada@example.com"), open_account(teller)
    deposit(teller, a, "50000.00")
    return a, b


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on this machine: answers `statuses` in turn (then 200) and keeps what it got."""

    statuses: list[int] = []
    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Receiver.received.append((self.headers["Idempotency-Key"], body))
        self.send_response(Receiver.statuses.pop(0) if Receiver.statuses else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook(settings):
    Receiver.statuses, Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.LEDGER_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    yield Receiver
    server.shutdown()


def test_large_withdrawals_and_transfers_are_notified_once_by_mail_and_webhook(teller, rich, webhook):
    a, b = rich
    big = teller.post(f"/api/accounts/{a}/withdrawals", {"amount": "1500.00"}).json()
    teller.post(f"/api/accounts/{a}/withdrawals", {"amount": "999.99"})  # below the threshold: nothing
    moved = teller.post("/api/transfers", {"from_account": a, "to_account": b, "amount": "1000.00"}).json()
    catch_up_everything()

    assert outbox.deliver_due() == 2 and outbox.deliver_due() == 0
    assert [m.to for m in mail.outbox] == [["Ada Rich <ada@example.com>"]] * 2
    assert "Large withdrawal: 1500.00 EUR" in mail.outbox[0].subject
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [
        f"<notification-{n.id}@ledger>" for n in Notification.objects.order_by("id")
    ]
    assert [(key.startswith("notification-"), body["amount"]) for key, body in webhook.received] == [
        (True, "1500.00"),
        (True, "1000.00"),
    ]
    page = teller.get("/api/notifications").json()
    sent_event = store.load(f"account-{a}", until_version=moved["versions"][a]).events[-1]  # TransferSent
    assert [(i["position"], i["kind"], i["amount"], i["status"]) for i in page["items"]] == [
        (sent_event.position, "large_transfer", "1000.00", "sent"),
        (big["position"], "large_withdrawal", "1500.00", "sent"),
    ]
    assert page["items"][0]["sent_at"] and page["next_cursor"] is None


def test_replays_rebuilds_and_catch_ups_never_add_a_second_notification(teller, rich):
    a, _ = rich
    teller.post(f"/api/accounts/{a}/withdrawals", {"amount": "2000.00"})
    catch_up_everything()
    outbox.deliver_due()

    call_command("replay", "--projection", "notifications", "--from-position", "1", stdout=io.StringIO())
    call_command("rebuild_projections", "--all", stdout=io.StringIO(), stderr=io.StringIO())
    catch_up_everything()
    refused = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("rebuild_projections", "notifications", stdout=io.StringIO(), stderr=refused)

    assert outbox.deliver_due() == 0
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1
    assert "is an outbox of deliveries" in refused.getvalue()
    call_command("verify_projections", "notifications", stdout=io.StringIO(), stderr=io.StringIO())  # exit 0


def test_a_failing_receiver_is_retried_with_back_off_until_it_takes_it(teller, rich, webhook):
    a, _ = rich
    teller.post(f"/api/accounts/{a}/withdrawals", {"amount": "3000.00"})
    catch_up_everything()
    webhook.statuses = [500, 503]

    first = outbox.deliver_due()
    pending = Notification.objects.get()
    waiting = outbox.deliver_due()  # within the back-off: not due yet
    Notification.objects.update(next_attempt_at=pending.created_at)  # the back-off has run out
    outbox.deliver_due()
    Notification.objects.update(next_attempt_at=pending.created_at)
    last = outbox.deliver_due()

    assert (first, waiting, last) == (0, 0, 1)
    assert (pending.status, pending.attempts, "500" in pending.last_error) == ("pending", 1, True)
    sent = Notification.objects.get()
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 3, "")
    assert len({key for key, _ in webhook.received}) == 1 and len(webhook.received) == 3  # one id, three tries


def test_a_receiver_that_never_takes_it_ends_failed_and_visible(teller, rich, webhook, monkeypatch):
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 2)
    a, _ = rich
    teller.post(f"/api/accounts/{a}/withdrawals", {"amount": "3000.00"})
    catch_up_everything()
    webhook.statuses = [500] * 10

    for _ in range(3):
        outbox.deliver_due()
        Notification.objects.update(next_attempt_at=Notification.objects.get().created_at)

    failed = Notification.objects.get()
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert teller.get("/api/notifications", {"status": "failed"}).json()["items"][0]["last_error"]


def test_a_delivery_abandoned_by_a_dead_worker_is_sent_again_to_the_same_file(teller, rich, settings, tmp_path):
    settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = "projections.mailfiles.NotificationFileBackend", str(tmp_path)
    a, _ = rich
    teller.post(f"/api/accounts/{a}/withdrawals", {"amount": "3000.00"})
    catch_up_everything()
    claimed = outbox._claim()  # a worker claims it, sends it ... and dies before recording that it did
    assert claimed is not None
    outbox._send(claimed)

    nothing_yet = outbox.deliver_due()  # the claim is still fresh: nobody else sends it meanwhile
    Notification.objects.update(claimed_at=claimed.created_at - timedelta(hours=1))  # CLAIM_TIMEOUT_SECONDS later
    again = outbox.deliver_due()

    assert (nothing_yet, again) == (0, 1)
    assert Notification.objects.get().status == "sent"
    assert [p.name for p in tmp_path.iterdir()] == [f"notification-{claimed.id}@ledger.eml"]  # one message


def test_only_tellers_and_auditors_see_the_notifications(alice, auditor):
    assert alice.get("/api/notifications").status_code == 403
    assert auditor.get("/api/notifications").status_code == 200
