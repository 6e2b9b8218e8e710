"""Open311 GeoReport v2 at /open311/v2/ (``.json`` or ``.xml`` on every resource), and the key admin page."""

from django.urls import path, re_path

from . import open311
from .views import open311_admin as views_open311_admin

app_name = "open311"
_FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", views_open311_admin.index, name="root"),
    re_path(r"^discovery" + _FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + _FMT, open311.services, name="services"),
    re_path(r"^services/(?P<code>[-\w]+)" + _FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + _FMT, open311.requests_, name="requests"),
    re_path(r"^requests/(?P<request_id>[-\w]+)" + _FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[-\w]+)" + _FMT, open311.token, name="token"),
    re_path(r"^servicerequestupdates" + _FMT, open311.updates, name="updates"),
    path("keys/", views_open311_admin.keys, name="keys"),
    path("keys/<int:pk>/revoke", views_open311_admin.revoke, name="revoke"),
]
