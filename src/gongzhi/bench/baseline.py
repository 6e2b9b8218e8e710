"""The base cost of any page, for ``gongzhi bench appeals``: the site's own URLs plus two measuring views,
put in place with ``override_settings(ROOT_URLCONF="gongzhi.bench.baseline")`` only while it measures.

- ``/__bench__/user/``: nothing but what every authenticated request does before its own work: the
  middleware, the session, the user with their roles (an answer of a few bytes);
- ``/__bench__/layout/``: that plus the site's layout (``base.html``: header, menu) with no content.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path


def user_only(request):
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    return HttpResponse(str(len(request.user.active_assignments)))


def layout(request):
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    return render(request, "base.html")


urlpatterns = [
    path("__bench__/user/", user_only),
    path("__bench__/layout/", layout),
    path("", include("gongzhi.urls")),
]
