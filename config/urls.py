"""Root URL configuration: pages, the API, operational endpoints, the admin (audit trail)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from config.api import api
from config.health import healthz, metrics_view, readyz

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("commands.urls")),
    path("", include("projections.urls")),
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("ops/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
