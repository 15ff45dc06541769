"""Tokens, sessions and roles."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from gateway.tokens import issue_token
from tests.api_client import PASSWORD, Api, event_count, open_account

pytestmark = pytest.mark.django_db


def test_a_token_is_a_short_lived_hs256_jwt(users):
    response = Client().post(
        "/api/token", {"username": "teller", "password": PASSWORD}, content_type="application/json"
    )

    body = response.json()
    assert (response.status_code, body["token_type"], body["expires_in"]) == (200, "Bearer", 900)
    claims = jwt.decode(body["access"], settings.LEDGER_TOKEN_KEY, algorithms=["HS256"], audience="ledger-api")
    assert claims["sub"] == "teller" and claims["exp"] - claims["iat"] == 900 and claims["jti"]
    assert (claims["iss"], claims["aud"]) == ("ledger", "ledger-api")
    with pytest.raises(jwt.InvalidSignatureError):  # not signed with SECRET_KEY: a key of its own
        jwt.decode(body["access"], settings.SECRET_KEY, algorithms=["HS256"], audience="ledger-api")


def test_wrong_credentials_are_401(users):
    response = Client().post("/api/token", {"username": "teller", "password": "nope"}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def expired() -> str:
    then = datetime.now(UTC) - timedelta(hours=1)
    return issue_token(User.objects.get(username="teller"), now=then)["access"]


def tampered() -> str:
    header, payload, signature = issue_token(User.objects.get(username="alice"))["access"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return f"{header}.{b64({**claims, 'sub': 'admin'})}.{signature}"


def alg_none() -> str:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "admin", "iat": now, "exp": now + 600, "jti": "x"}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def rs256() -> str:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "admin", "iat": now, "exp": now + 600, "jti": "x"}
    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.{b64({'sig': 'forged'})}"


def foreign_key() -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": "admin", "iat": now, "exp": now + timedelta(minutes=5), "jti": "x"}, "k" * 40)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not.a.jwt",
        "Basic dGVsbGVyOnB3",
        lambda: f"Bearer {expired()}",
        lambda: f"Bearer {tampered()}",
        lambda: f"Bearer {alg_none()}",
        lambda: f"Bearer {rs256()}",
        lambda: f"Bearer {foreign_key()}",
    ],
    ids=["missing", "empty", "malformed", "basic", "expired", "tampered", "alg-none", "rs256", "other-key"],
)
def test_bad_or_missing_tokens_are_401_and_store_nothing(users, authorization):
    header = authorization() if callable(authorization) else authorization
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    before = event_count()

    response = Client().post(
        "/api/accounts",
        {"holder_name": "X", "email": "x@example.com"},
        content_type="application/json",
        **extra,
    )

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert event_count() == before


def test_a_deactivated_users_token_stops_working(teller):
    User.objects.filter(username="teller").update(is_active=False)
    assert teller.get("/api/accounts/00000000-0000-4000-8000-000000000000/state").status_code == 401


def test_a_browser_session_authenticates_with_csrf(users):
    client = Client(enforce_csrf_checks=True)
    client.login(username="alice", password=PASSWORD)
    body = {"holder_name": "Alice", "email": "a@example.com"}

    without = client.post("/api/accounts", body, content_type="application/json")
    client.get("/admin/login/")  # any page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    with_token = client.post("/api/accounts", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert (without.status_code, without.json()["code"]) == (403, "csrf_failed")
    assert with_token.status_code == 201


def test_reads_follow_roles(teller, alice, bob, auditor):
    account = open_account(teller, owner="alice")
    assert alice.get(f"/api/accounts/{account}/state").status_code == 200
    assert auditor.get(f"/api/accounts/{account}/events").status_code == 200
    assert bob.get(f"/api/accounts/{account}/state").json()["code"] == "account_not_found"


def test_a_request_decodes_its_token_once_and_the_next_request_again(teller: Api, monkeypatch):
    account = open_account(teller, owner="alice")
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args, **kwargs):  # the real decoding, counted
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    for _ in range(2):
        assert teller.get(f"/api/accounts/{account}/state").status_code == 200

    assert len(decoded) == 2  # the rate limit's identity and the authentication share one per request


def test_tokens_work_without_csrf(teller: Api):
    assert (
        teller.post("/api/accounts", {"holder_name": "A", "email": "a@example.com", "owner": "alice"}).status_code
        == 201
    )


def test_demo_data_opens_accounts_once_and_is_safe_to_run_again(db):
    import io

    from django.core.management import call_command

    from projections.jobs import catch_up_everything
    from projections.models import AccountSummary

    for _ in range(2):
        call_command("demo_data", "--with-accounts", password=PASSWORD, stdout=io.StringIO())
    catch_up_everything()

    owners = sorted(AccountSummary.objects.values_list("owner", flat=True))
    assert owners == ["alice", "alice", "bob"]
    assert sum(AccountSummary.objects.values_list("balance", flat=True)) == 125_000 + 500_000 + 30_000 - 8_000
    assert User.objects.get(username="admin").is_superuser


def forged(**claims: object) -> str:
    """A token signed with the right key, with the given claims over a valid teller token's."""
    now = int(datetime.now(UTC).timestamp())
    teller = User.objects.get(username="teller")
    base = jwt.decode(
        issue_token(teller)["access"], settings.LEDGER_TOKEN_KEY, algorithms=["HS256"], audience="ledger-api"
    )
    return jwt.encode({**base, "iat": now, **claims}, settings.LEDGER_TOKEN_KEY, algorithm="HS256")


@pytest.mark.parametrize("claims", [{"iss": "someone-else"}, {"aud": "another-api"}])
def test_a_token_for_another_issuer_or_audience_is_refused(users, claims):
    response = Api(Client(), forged(**claims)).get("/api/accounts")
    assert response.status_code == 401


def test_a_password_change_revokes_every_token_of_the_user(users):
    api = Api(Client(), issue_token(User.objects.get(username="alice"))["access"])
    assert api.get("/api/accounts").status_code == 200
    alice = User.objects.get(username="alice")
    alice.set_password("a-brand-new-secret-42")
    alice.save()

    assert api.get("/api/accounts").status_code == 401


def test_revoke_tokens_refuses_every_token_issued_until_then_and_not_later_ones(users):
    from datetime import timedelta as delta

    from gateway.models import TokenCutoff

    teller = User.objects.get(username="teller")
    earlier = Api(Client(), issue_token(teller, now=datetime.now(UTC) - delta(seconds=10))["access"])
    call_command("revoke_tokens", "teller", stdout=io.StringIO())
    TokenCutoff.objects.update(not_before=datetime.now(UTC) - delta(seconds=5))  # revoked 5 s ago, then
    later = Api(Client(), issue_token(teller)["access"])  # a new login

    assert earlier.get("/api/accounts").status_code == 401
    assert later.get("/api/accounts").status_code == 200


def test_a_token_carries_the_roles_the_user_holds_at_each_request(users):
    """Roles are read with the user on every request (one query, tokens._active_user): leaving the role's
    group counts from the next request, and a permission given one by one counts like the group's."""
    from django.contrib.auth.models import Permission

    teller = User.objects.get(username="teller")
    api = Api(Client(), issue_token(teller)["access"])
    assert api.get("/api/events").status_code == 200

    teller.groups.clear()
    assert api.get("/api/events").status_code == 403

    reads_all = Permission.objects.get(content_type__app_label="commands", codename="read_all_accounts")
    teller.user_permissions.add(reads_all)
    assert api.get("/api/events").status_code == 200


def test_a_superusers_token_holds_every_role(users):
    api = Api(Client(), issue_token(User.objects.get(username="admin"))["access"])
    assert api.get("/api/events").status_code == 200
