"""Root URL configuration: pages, the API, operational endpoints, the admin (audit trail)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import URLPattern, include, path
from django.views.generic import TemplateView
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

import commands.api  # noqa: F401  (registers the command endpoints on gateway.routes.router)
import projections.api  # noqa: F401  (registers the query endpoints)
from gateway.api import api
from gateway.health import healthz, metrics_view, readyz
from gateway.login_throttle import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm


def _operators_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A django-rq view, for the operator role only (anonymous visitors are sent to the login page)."""
    return login_required(permission_required("commands.operate_projections", raise_exception=True)(view))


def _rq_dashboard() -> list[URLPattern]:
    """django-rq's pages and their JSON, every one behind the operator check (no token access)."""
    guarded = [
        URLPattern(p.pattern, _operators_only(p.callback), p.default_args, p.name) for p in get_api_urlpatterns()
    ]
    return guarded + get_admin_urlpatterns(view_wrapper=_operators_only)


def _favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links (the admin's pages link none): the SVG answers."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))  # at request time: the manifest names the file


def _not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404.html with the reason a view gave (`Http404("no such account")`) as `exception`, and none otherwise.

    Django's own view passes the exception's class name when there is no message ("Http404", "Resolver404"),
    which is no reason a person can use; the page then says something general instead."""
    reason = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    return render(request, "404.html", {"exception": reason, "request_path": request.path}, status=404)


handler404 = _not_found

# The admin is the audit trail (docs/conventions.md, "Pages"): its titles say so, here and nowhere else.
admin.site.site_header = admin.site.site_title = "Ledger audit trail"
admin.site.index_title = "Events, read models and operator actions"
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("favicon.ico", _favicon),
    path("login/", auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("web.urls")),
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # django-rq's dashboard (queues, workers, failed jobs) is for operators; its own views also want staff.
    path("ops/rq/", include((_rq_dashboard(), "django_rq"))),
    path("admin/", admin.site.urls),
]
