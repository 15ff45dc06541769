from __future__ import annotations

from django.urls import path

from projections import views

app_name = "projections"
urlpatterns = [
    path("accounts/", views.accounts_page, name="accounts"),
    path("accounts/<uuid:account_id>/", views.account_detail, name="account"),
    path("accounts/<uuid:account_id>/panel/<slug:panel>/", views.account_panel, name="account_panel"),
    path("accounts/<uuid:account_id>/pending/", views.pending_badge, name="pending"),
    path("events/", views.events_page, name="events"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("ops/", views.ops_page, name="ops"),
    path("ops/<slug:name>/<slug:action>/", views.ops_action, name="ops_action"),
]
