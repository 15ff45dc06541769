"""Content-Security-Policy: scripts and styles from this origin only, no inline scripts anywhere.

htmx's configuration lives in a meta tag and the CSRF token in `hx-headers` on <body>, so pages need no
inline script; htmx's own inline indicator styles are switched off in that config.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

# django-rq's dashboard (operators only, config.urls) is third-party HTML with inline <style>, style="" and
# onclick: under POLICY it loses its layout and its buttons. It alone may run inline code, and only its own
# (still 'self' for every source, so nothing from elsewhere); every other page keeps the strict policy.
RQ_DASHBOARD = "/ops/rq/"
RQ_DASHBOARD_POLICY = POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = RQ_DASHBOARD_POLICY if request.path.startswith(RQ_DASHBOARD) else POLICY
        response.setdefault("Content-Security-Policy", policy)
        return response
