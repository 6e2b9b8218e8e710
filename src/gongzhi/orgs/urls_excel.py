"""Excel pages: import template, import with progress, row-error report, registry export."""

from django.urls import path  # noqa: F401

app_name = "excel"
urlpatterns: list = []
