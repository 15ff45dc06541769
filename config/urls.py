"""Root URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from config.api import api

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
