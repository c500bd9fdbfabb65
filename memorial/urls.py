"""Root URL configuration: each app brings its own urls module."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from memorial.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("memorial.accounts.urls")),
    path("api/", include("memorial.api_urls")),
    path("", include("memorial.consent.urls")),
    path("", include("memorial.moderation.urls")),
    path("", include("memorial.provenance.urls")),
    path("", include("memorial.audit.urls")),
    path("", include("memorial.memorials.urls")),
    path("", include("memorial.jobs.urls")),
    path("", include("memorial.videos.urls")),
    path("", include("memorial.restoration.urls")),
]
