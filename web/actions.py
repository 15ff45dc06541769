"""Command forms: open an account, the account page's commands, transfers. Every form works without JavaScript
(post, redirect); with htmx the same views answer with fragments: the forms again (422 with the input kept, or
fresh after success), or the conflict panel (409). A view reads the form, builds the command, and submits it
through commands.dispatch, the same path as the API's."""

from __future__ import annotations

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

from commands import calls, dispatch, idempotency, services
from commands.domain import access, accounts, money
from commands.domain.access import Actor, Forbidden
from commands.domain.errors import AccountNotFound, DomainError, FieldError
from commands.idempotency import Outcome
from eventstore import store
from eventstore.records import ConcurrencyError
from gateway import positions
from gateway.actors import actor_for
from web import freshness
from web.forms import ACCOUNT_FORMS, COMMAND_NAMES, CommandForm, OpenAccountForm, TransferForm, account_forms

Fields = Callable[[dict[str, Any], accounts.Account], dict[str, Any]]  # form data, state -> command fields


@login_required
@require_http_methods(["GET", "POST"])
def open_account(request: HttpRequest) -> HttpResponse:
    actor = _may(request, "OpenAccount")
    form = OpenAccountForm(request.POST or None)
    context = {"form": form, "nav": "open"}
    if request.method == "GET" or not form.is_valid():
        return _page(request, "web/open_account.html", context, request.method == "POST")
    data = form.cleaned_data
    try:
        command = accounts.OpenAccount(
            account_id=uuid.uuid4(),
            holder_name=data["holder_name"],
            email=data["email"],
            currency=data["currency"],
            overdraft_limit=_amount(data["overdraft_limit"], data["currency"], "overdraft_limit", allow_zero=True),
            owner=data["owner"] or actor.username,  # a customer naming another owner gets a 403
            now=timezone.now(),
        )
    except FieldError as exc:
        form.add_error(exc.field, str(exc))
        return _page(request, "web/open_account.html", context, True)
    outcome = _submit(request, form, "OpenAccount", lambda c: services.account_open(command=command, context=c))
    if _refused(form, outcome):
        return _page(request, "web/open_account.html", context, True)
    messages.success(request, "Account opened.")
    return redirect(_account_url(outcome.body["account_id"], outcome.body["position"]))


@login_required
@require_POST
def account_command(request: HttpRequest, account_id: UUID, action: str) -> HttpResponse:
    """Deposit, withdraw, freeze, unfreeze, close or change holder details, from the account page."""
    if action not in ACCOUNT_FORMS:
        raise Http404(action)
    account_id = UUID(str(account_id))  # the URL pattern captures it as text
    name = COMMAND_NAMES[action]
    _may(request, name)  # the role, before the form says anything
    form = ACCOUNT_FORMS[action](request.POST, auto_id=f"{action}-%s")
    if not form.is_valid():
        return _forms(request, account_id, (action, form), status=422)
    data, command_type, fields = form.cleaned_data, _COMMANDS[action], _FIELDS[action]
    draft = calls.Draft(
        name,
        account_id,
        lambda state: command_type(account_id=account_id, now=timezone.now(), **fields(data, state)),
    )
    service, expected = _SERVICES[action], data.get("expected_version")
    try:
        outcome = _submit(
            request, form, name, lambda c: service(command=draft, context=c, expected_version=expected), account_id
        )
    except ConcurrencyError as conflict:
        return _conflict(request, account_id, action, form, conflict)
    if _refused(form, outcome):
        return _forms(request, account_id, (action, form), status=422)
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, f"{_DONE[action]} Saved.")
        return redirect(_account_url(account_id, outcome.body["position"]))
    response = _forms(request, account_id, None, status=200, version=outcome.body["version"])
    return trigger_client_event(response, "command-saved", {"position": outcome.body["position"]})


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest) -> HttpResponse:
    _may(request, "Transfer")
    form = TransferForm(request.POST or None, initial={"from_account": request.GET.get("from", "")})
    context = {"form": form, "nav": "transfer"}
    if request.method == "GET" or not form.is_valid():
        return _page(request, "web/transfer.html", context, request.method == "POST")
    data = form.cleaned_data
    draft = calls.Draft(
        "Transfer",
        data["from_account"],
        lambda source: accounts.Transfer(
            transfer_id=uuid.uuid4(),
            from_account=data["from_account"],
            to_account=data["to_account"],
            amount=_amount(data["amount"], source.currency, "amount"),
            reference=data["reference"],
            now=timezone.now(),
        ),
        to_account=data["to_account"],
    )
    expected = data.get("expected_version")
    try:
        outcome = _submit(
            request,
            form,
            "Transfer",
            lambda c: services.transfer_execute(command=draft, context=c, from_expected_version=expected),
        )
    except ConcurrencyError as exc:
        form.add_error(None, f"The account changed meanwhile ({exc}). Check it and send the transfer again.")
        return _page(request, "web/transfer.html", context, True, status=409)
    if _refused(form, outcome):
        return _page(request, "web/transfer.html", context, True)
    messages.success(request, "Transfer sent.")
    return redirect(_account_url(data["from_account"], outcome.body["position"]))


# --- the shared path ---------------------------------------------------------------------------------


def _may(request: HttpRequest, command_name: str) -> Actor:
    """403 before anything else when the user's role may not issue this kind of command at all."""
    actor = actor_for(request.user)
    try:
        access.require_command(actor, command_name)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    return actor


def _submit(
    request: HttpRequest, form: CommandForm, name: str, call: dispatch.Call, url_account: UUID | None = None
) -> Outcome:
    """Submit through commands.dispatch under the form's idempotency key (minted when the form was rendered).

    Raises PermissionDenied (403), Http404 when the account in the URL does not exist or is not the user's, and
    ConcurrencyError. An account named in the form that is missing is a refusal (422), as in the API.
    """
    fields = {k: str(v) for k, v in form.cleaned_data.items() if k != "idempotency_key"}
    submission = dispatch.Submission(
        context=dispatch.context_for(request, actor_for(request.user)),
        user_id=int(request.user.pk or 0),
        idempotency_key=form.cleaned_data["idempotency_key"],
        fingerprint=idempotency.fingerprint("POST", request.path, fields),
        url_account=url_account,
    )
    try:
        outcome = dispatch.submit(name, call, submission)
    except idempotency.IdempotencyKeyReused:
        detail = "This form was already sent with other values; reload the page."
        return Outcome(422, {"detail": detail, "code": "idempotency_key_reused"})
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except AccountNotFound as exc:
        raise Http404(str(exc)) from exc
    if outcome.status < 400:
        positions.remember(request, outcome.body["position"])
    return outcome


def _refused(form: CommandForm, outcome: Outcome) -> bool:
    """Put a refusal's reason on the form, beside the field it names when the form has that field."""
    if outcome.status < 400:
        return False
    named = [error["field"] for error in outcome.body.get("errors", []) if error["field"] in form.fields]
    form.add_error(named[0] if named else None, outcome.body["detail"])
    return True


def _forms(
    request: HttpRequest,
    account_id: UUID,
    bound: tuple[str, CommandForm] | None,
    *,
    status: int,
    version: int | None = None,
) -> HttpResponse:
    """The account's command forms: a fragment for htmx, else inside the full account page. Read from the read
    model once it holds the user's own last command (web.freshness), so no form carries an older version."""
    if not request.htmx:  # type: ignore[attr-defined]
        from web.pages import account_page  # the page that composes the read panels with these forms

        return account_page(request, account_id, bound=bound, http_status=status)
    current = freshness.account_now(request, account_id)
    forms = account_forms(actor_for(request.user), version or current.version, current.status, bound)
    context = {"account_id": account_id, "forms": forms}
    return render(request, "web/account_forms.html#forms", context, status=status)


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
        return render(request, "web/conflict.html#conflict", context, status=409)
    return render(request, "web/conflict.html", context, status=409)


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], posted: bool, status: int | None = None
) -> HttpResponse:
    return render(request, template, context, status=status or (422 if posted else 200))


def _amount(text: str, currency: str, field: str, *, allow_zero: bool = False) -> int:
    """Text typed in a form as minor units of `currency`; a FieldError names the field."""
    try:
        return money.parse_decimal(text, currency, allow_zero=allow_zero)
    except DomainError as exc:
        raise FieldError(exc, field) from None


def _account_url(account_id: object, position: int) -> str:
    return f"/accounts/{account_id}/?pending={position}"


def _money(data: dict[str, Any], state: accounts.Account) -> dict[str, Any]:
    return {"amount": _amount(data["amount"], state.currency, "amount"), "reference": data["reference"]}


_COMMANDS: dict[str, Any] = {
    "deposit": accounts.Deposit,
    "withdraw": accounts.Withdraw,
    "freeze": accounts.Freeze,
    "unfreeze": accounts.Unfreeze,
    "close": accounts.Close,
    "holder": accounts.ChangeHolderDetails,
}
_SERVICES: dict[str, Callable[..., calls.AccountResult]] = {
    "deposit": services.account_deposit,
    "withdraw": services.account_withdraw,
    "freeze": services.account_freeze,
    "unfreeze": services.account_unfreeze,
    "close": services.account_close,
    "holder": services.account_change_holder,
}
_FIELDS: dict[str, Fields] = {
    "deposit": _money,
    "withdraw": _money,
    "freeze": lambda d, s: {"reason": d["reason"]},
    "unfreeze": lambda d, s: {},
    "close": lambda d, s: {},
    "holder": lambda d, s: {"holder_name": d["holder_name"] or None, "email": d["email"] or None},
}
_DONE = {
    "deposit": "Deposit recorded.",
    "withdraw": "Withdrawal recorded.",
    "freeze": "Account frozen.",
    "unfreeze": "Account unfrozen.",
    "close": "Account closed.",
    "holder": "Holder details changed.",
}
