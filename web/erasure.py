"""The operator's "forget a customer" action on /ops/ (commands.erasure)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from commands.calls import CommandContext
from commands.erasure import NothingToForget, customer_forget
from gateway.actors import actor_for


@login_required
@permission_required("commands.operate_projections", raise_exception=True)
@require_POST
def forget_customer(request: HttpRequest) -> HttpResponse:
    """Erase a customer's personal data once the username has been typed twice (it cannot be undone)."""
    customer = request.POST.get("customer", "").strip()
    if not customer or request.POST.get("confirm", "").strip() != customer:
        messages.error(request, "Type the customer's username in both fields: forgetting cannot be undone.")
        return redirect("web:ops")
    context = CommandContext(
        actor=actor_for(request.user),
        correlation_id=request.correlation_id,  # type: ignore[attr-defined]
        request_id=request.request_id,  # type: ignore[attr-defined]
    )
    try:
        done = customer_forget(customer=customer, context=context)
    except NothingToForget as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{customer}: erasure recorded on {len(done.accounts)} account(s), {done.keys_destroyed} key(s)"
            " destroyed. Their holder details now read as 'erased'.",
        )
    return redirect("web:ops")
