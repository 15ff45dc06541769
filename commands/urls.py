from __future__ import annotations

from django.urls import path, re_path

from commands import erasure_views, views
from commands.forms import ACCOUNT_FORMS

app_name = "commands"
_ACTIONS = "|".join(ACCOUNT_FORMS)
urlpatterns = [
    path("accounts/new/", views.open_account, name="open_account"),
    path("accounts/<uuid:account_id>/history/", views.history, name="history"),
    re_path(
        rf"^accounts/(?P<account_id>[0-9a-f-]{{36}})/(?P<action>{_ACTIONS})/$",
        views.account_command,
        name="account_command",
    ),
    path("transfers/new/", views.transfer, name="transfer"),
    path("ops/forget-customer/", erasure_views.forget_customer, name="forget_customer"),
]
