"""Notices (/notices/) and the group-robot admin pages (/notices/robots/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("<int:pk>/", views.notice_open, name="open"),
    path("<int:pk>/read/", views.notice_read, name="read"),
    path("read-all/", views.notice_read_all, name="read_all"),
    path("badge/", views.badge, name="badge"),
    path("robots/", views.webhook_list, name="webhooks"),
    path("robots/new/", views.webhook_new, name="webhook_new"),
    path("robots/<int:pk>/", views.webhook_edit, name="webhook"),
    path("robots/<int:pk>/test/", views.webhook_test, name="webhook_test"),
]
