"""Command pages and form posts. Every form works without JavaScript (post, redirect); with htmx the same
views answer with fragments: the forms again (422 with the input kept, or fresh after success), or the
conflict panel (409). A view parses, calls one service, and renders."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from commands import idempotency, permissions, selectors, services
from commands.domain import accounts, money
from commands.domain.errors import AccountNotFound, DomainError
from commands.forms import ACCOUNT_FORMS, CommandForm, OpenAccountForm, TransferForm, account_forms
from commands.idempotency import Outcome
from commands.permissions import Forbidden, actor_for
from eventstore import store
from eventstore.records import ConcurrencyError

FORMS_PAGE = "commands/account_forms.html"
Build = Callable[[dict[str, Any]], dict[str, Any]]  # cleaned form data (amount in minor units) -> command fields


@login_required
@require_http_methods(["GET", "POST"])
def open_account(request: HttpRequest) -> HttpResponse:
    _may(request, "OpenAccount")
    form = OpenAccountForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return _page(request, "commands/open_account.html", {"form": form, "nav": "open"}, request.method == "POST")
    data = form.cleaned_data
    account_id = uuid.uuid4()
    owner = data["owner"] or request.user.get_username()  # a customer naming another owner gets a 403
    overdraft = _parse_money(form, "overdraft_limit", data["currency"], allow_zero=True)
    if overdraft is None:
        return _page(request, "commands/open_account.html", {"form": form, "nav": "open"}, True)
    command = accounts.OpenAccount(
        account_id=account_id,
        holder_name=data["holder_name"],
        email=data["email"],
        currency=data["currency"],
        overdraft_limit=overdraft,
        owner=owner,
        now=timezone.now(),
    )
    outcome = _run_once(request, form, lambda context: services.account_open(command=command, context=context))
    if outcome.status >= 400:
        form.add_error(None, outcome.body["detail"])
        return _page(request, "commands/open_account.html", {"form": form, "nav": "open"}, True)
    messages.success(request, "Account opened.")
    return redirect(_account_url(outcome.body["account_id"], outcome.body["position"]))


@login_required
@require_POST
def account_command(request: HttpRequest, account_id: UUID, action: str) -> HttpResponse:
    """Deposit, withdraw, freeze, unfreeze, close or change holder details, from the account page."""
    if action not in ACCOUNT_FORMS:
        raise Http404(action)
    account_id = UUID(str(account_id))  # the URL pattern captures it as text
    currency = _access(request, account_id, _COMMANDS[action].__name__)  # before the form says anything
    form = ACCOUNT_FORMS[action](request.POST, auto_id=f"{action}-%s")
    if not form.is_valid():
        return _forms(request, account_id, (action, form), status=422)
    data = dict(form.cleaned_data)
    if "amount" in data:
        data["amount"] = _parse_money(form, "amount", currency)
        if data["amount"] is None:
            return _forms(request, account_id, (action, form), status=422)
    command = _COMMANDS[action](account_id=account_id, now=timezone.now(), **_BUILDERS[action](data))
    service, expected = _SERVICES[action], data.get("expected_version")
    try:
        outcome = _run_once(
            request,
            form,
            lambda c: service(command=command, context=c, expected_version=expected),
            url_account=account_id,
        )
    except ConcurrencyError as conflict:
        return _conflict(request, account_id, action, form, conflict)
    if outcome.status >= 400:
        form.add_error(None, outcome.body["detail"])
        return _forms(request, account_id, (action, form), status=422)
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, f"{_DONE[action]} Saved.")
        return redirect(_account_url(account_id, outcome.body["position"]))
    response = _forms(
        request, account_id, None, status=200, version=outcome.body["version"], position=outcome.body["position"]
    )
    return trigger_client_event(response, "command-saved", {"position": outcome.body["position"]})


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest) -> HttpResponse:
    _may(request, "Transfer")
    form = TransferForm(request.POST or None, initial={"from_account": request.GET.get("from", "")})
    context = {"form": form, "nav": "transfer"}
    if request.method == "GET" or not form.is_valid():
        return _page(request, "commands/transfer.html", context, request.method == "POST")
    data = form.cleaned_data
    try:
        currency = services.account_access(actor_for(request.user), data["from_account"], "Transfer")
    except AccountNotFound as exc:  # named in the form, not the URL: a refusal in place, as in the API
        form.add_error("from_account", str(exc))
        return _page(request, "commands/transfer.html", context, True)
    amount = _parse_money(form, "amount", currency)
    if amount is None:
        return _page(request, "commands/transfer.html", context, True)
    command = accounts.Transfer(
        transfer_id=uuid.uuid4(),
        from_account=data["from_account"],
        to_account=data["to_account"],
        amount=amount,
        reference=data["reference"],
        now=timezone.now(),
    )
    try:
        outcome = _run_once(
            request,
            form,
            lambda c: services.transfer_execute(
                command=command, context=c, from_expected_version=data.get("expected_version")
            ),
        )
    except ConcurrencyError as exc:
        form.add_error(None, f"The account changed meanwhile ({exc}). Check it and send the transfer again.")
        return _page(request, "commands/transfer.html", context, True, status=409)
    if outcome.status >= 400:
        form.add_error(None, outcome.body["detail"])
        return _page(request, "commands/transfer.html", context, True)
    messages.success(request, "Transfer sent.")
    return redirect(_account_url(data["from_account"], outcome.body["position"]))


# --- the shared path ---------------------------------------------------------------------------------


def _may(request: HttpRequest, command_name: str) -> None:
    """403 before anything else when the user's role may not issue this kind of command at all."""
    try:
        permissions.require_command(actor_for(request.user), command_name)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _access(request: HttpRequest, account_id: UUID, command_name: str) -> str:
    """403 or 404 (missing, or another customer's: the same answer) before any other work; the currency."""
    try:
        return services.account_access(actor_for(request.user), account_id, command_name)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except AccountNotFound as exc:
        raise Http404(str(exc)) from exc


def _run_once(
    request: HttpRequest,
    form: CommandForm,
    call: Callable[[services.CommandContext], Any],
    url_account: UUID | None = None,
) -> Outcome:
    """Run the service once per form key; a business-rule refusal is an outcome (422) like success.

    Raises PermissionDenied (403), Http404 when the account in the URL does not exist or is not the user's, and
    ConcurrencyError. An account named in the form that is missing is a refusal (422), as in the API.
    """
    context = services.CommandContext(
        actor=actor_for(request.user),
        correlation_id=request.correlation_id,  # type: ignore[attr-defined]
        request_id=request.request_id,  # type: ignore[attr-defined]
    )

    def handler() -> Outcome:
        try:
            result = call(context)
        except AccountNotFound as exc:
            if url_account is not None and exc.account_id == url_account:
                raise
            return Outcome(422, {"detail": str(exc), "code": exc.code})
        except DomainError as exc:
            return Outcome(422, {"detail": str(exc), "code": exc.code})
        body = {"position": result.position, "correlation_id": result.correlation_id}
        if isinstance(result, services.AccountResult):
            body |= {"account_id": str(result.account_id), "version": result.version}
        return Outcome(201, body)

    fields = {k: str(v) for k, v in form.cleaned_data.items() if k != "idempotency_key"}
    fingerprint = idempotency.fingerprint("POST", request.path, fields)
    try:
        return idempotency.run_once(
            user_id=int(request.user.pk or 0),
            key=form.cleaned_data["idempotency_key"],
            request_fingerprint=fingerprint,
            handler=handler,
        )
    except idempotency.IdempotencyKeyReused:
        return Outcome(
            422,
            {
                "detail": "This form was already sent with other values; reload the page.",
                "code": "idempotency_key_reused",
            },
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except AccountNotFound as exc:
        raise Http404(str(exc)) from exc


def _forms(
    request: HttpRequest,
    account_id: UUID,
    bound: tuple[str, CommandForm] | None,
    *,
    status: int,
    version: int | None = None,
    position: int | None = None,
) -> HttpResponse:
    """The account's command forms (as a fragment for htmx, else inside the full account page)."""
    current = services.load_account(accounts.account_stream(account_id))
    version = current.history.version if version is None else version
    forms = account_forms(version, current.state.status, bound)
    context = {"account_id": account_id, "forms": forms, "position": position}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, f"{FORMS_PAGE}#forms", context, status=status)
    from projections.views import account_page  # the page that shows the forms

    return account_page(request, account_id, forms_context=context, http_status=status)


def _conflict(
    request: HttpRequest, account_id: UUID, action: str, form: CommandForm, conflict: ConcurrencyError
) -> HttpResponse:
    """What changed since the version the user saw, with reload and apply-on-the-new-version."""
    between = store.load_range(accounts.account_stream(account_id), after_version=conflict.expected, limit=50)
    retry = dict(form.cleaned_data) | {"expected_version": conflict.actual, "idempotency_key": str(uuid.uuid4())}
    context = {
        "account_id": account_id,
        "action": action,
        "conflict": conflict,
        "events": between,
        "retry": [(name, value) for name, value in retry.items() if value is not None],
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "commands/conflict.html#conflict", context, status=409)
    return render(request, "commands/conflict.html", context, status=409)


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], posted: bool, status: int | None = None
) -> HttpResponse:
    return render(request, template, context, status=status or (422 if posted else 200))


def _parse_money(form: CommandForm, field: str, currency: str, *, allow_zero: bool = False) -> int | None:
    try:
        return money.parse_decimal(form.cleaned_data[field], currency, allow_zero=allow_zero)
    except DomainError as exc:
        form.add_error(field, str(exc))
        return None


def _account_url(account_id: object, position: int) -> str:
    return f"/accounts/{account_id}/?pending={position}"


_COMMANDS: dict[str, Any] = {
    "deposit": accounts.Deposit,
    "withdraw": accounts.Withdraw,
    "freeze": accounts.Freeze,
    "unfreeze": accounts.Unfreeze,
    "close": accounts.Close,
    "holder": accounts.ChangeHolderDetails,
}
_SERVICES: dict[str, Callable[..., services.AccountResult]] = {
    "deposit": services.account_deposit,
    "withdraw": services.account_withdraw,
    "freeze": services.account_freeze,
    "unfreeze": services.account_unfreeze,
    "close": services.account_close,
    "holder": services.account_change_holder,
}
_BUILDERS: dict[str, Build] = {
    "deposit": lambda d: {"amount": d["amount"], "reference": d["reference"]},
    "withdraw": lambda d: {"amount": d["amount"], "reference": d["reference"]},
    "freeze": lambda d: {"reason": d["reason"]},
    "unfreeze": lambda d: {},
    "close": lambda d: {},
    "holder": lambda d: {"holder_name": d["holder_name"] or None, "email": d["email"] or None},
}
_DONE = {
    "deposit": "Deposit recorded.",
    "withdraw": "Withdrawal recorded.",
    "freeze": "Account frozen.",
    "unfreeze": "Account unfrozen.",
    "close": "Account closed.",
    "holder": "Holder details changed.",
}


@login_required
def history(request: HttpRequest, account_id: UUID) -> HttpResponse:
    """Every event of the account, and the state at any version with what changed from the one before."""
    actor = actor_for(request.user)
    try:
        now = selectors.account_state(account_id=account_id, actor=actor)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except AccountNotFound:
        raise Http404("no such account") from None
    chosen = min(max(_int(request.GET.get("version")) or now.version, 1), now.version)
    at = selectors.account_state(account_id=account_id, actor=actor, version=chosen)
    before = selectors.account_state(account_id=account_id, actor=actor, version=chosen - 1) if chosen > 1 else None
    events = store.load(accounts.account_stream(account_id)).events
    context = {
        "account_id": account_id,
        "events": [(event, json.dumps(event.data, indent=2, sort_keys=True)) for event in reversed(events)],
        "latest": now.version,
        "at": at,
        "fields": _state_fields(at.state, before.state if before else None),
        "event_at": events[chosen - 1],
        "nav": "accounts",
    }
    template = "commands/history.html" + ("#state" if request.htmx else "")  # type: ignore[attr-defined]
    return render(request, template, context)


def _state_fields(state: accounts.Account, previous: accounts.Account | None) -> list[tuple[str, str, bool]]:
    """(label, value, changed since the previous version) for the time-travel panel."""

    def shown(account: accounts.Account, name: str) -> str:
        value = getattr(account, name)
        if name in {"balance", "overdraft_limit"}:
            return money.format_amount(value, account.currency) if account.currency else "0"
        return str(value)

    names = ("status", "balance", "overdraft_limit", "currency", "holder_name", "email", "owner", "frozen_reason")
    return [
        (
            name.replace("_", " "),
            shown(state, name),
            previous is not None and shown(previous, name) != shown(state, name),
        )
        for name in names
    ]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
