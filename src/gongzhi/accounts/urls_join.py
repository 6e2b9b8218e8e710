"""Joining by real name: the resident's pages (public) and the grid worker's (``accounts.views.join``)."""

from django.urls import path

from .views import join as views

app_name = "join"
urlpatterns = [
    path("", views.start, name="start"),
    path("ask/", views.ask, name="ask"),
    path("places/", views.places, name="places"),
    path("sent/", views.sent, name="sent"),
    path("requests/", views.requests, name="requests"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/approve/", views.request_approve, name="approve"),
    path("requests/<int:pk>/reject/", views.request_reject, name="reject"),
    path("household/<int:pk>/", views.household_codes, name="household"),
    path("household/<int:pk>/unlink/", views.unlink, name="unlink"),
    path("party-member/<int:pk>/", views.party_codes, name="party"),
    path("codes/<int:pk>/print/", views.code_print, name="code_print"),
    path("codes/<int:pk>/qr.svg", views.code_qr, name="code_qr"),
    path("codes/<int:pk>/revoke/", views.code_revoke, name="code_revoke"),
    path("badge/", views.badge, name="badge"),
    path("<str:code>/", views.with_code, name="code"),
]
