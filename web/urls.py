"""The pages (namespace `web`): reading accounts and the log, command forms, operations."""

from __future__ import annotations

from django.urls import path, re_path

from web import actions, erasure, history, pages, picker
from web.forms import ACCOUNT_FORMS

app_name = "web"
_ACTIONS = "|".join(ACCOUNT_FORMS)
urlpatterns = [
    path("accounts/", pages.accounts_page, name="accounts"),
    path("accounts/new/", actions.open_account, name="open_account"),
    path("accounts/<uuid:account_id>/", pages.account_detail, name="account"),
    path("accounts/<uuid:account_id>/panel/<slug:panel>/", pages.account_panel, name="account_panel"),
    path("accounts/<uuid:account_id>/pending/", pages.pending_badge, name="pending"),
    path("accounts/<uuid:account_id>/history/", history.history, name="history"),
    path("accounts/<uuid:account_id>/compare/", history.compare, name="compare"),
    re_path(
        rf"^accounts/(?P<account_id>[0-9a-f-]{{36}})/(?P<action>{_ACTIONS})/$",
        actions.account_command,
        name="account_command",
    ),
    path("transfers/new/", actions.transfer, name="transfer"),
    path("transfers/accounts/", picker.account_choices, name="transfer_accounts"),
    path("events/", pages.events_page, name="events"),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("ops/", pages.ops_page, name="ops"),
    path("ops/forget-customer/", erasure.forget_customer, name="forget_customer"),
    path("ops/<slug:name>/<slug:action>/", pages.ops_action, name="ops_action"),
]
