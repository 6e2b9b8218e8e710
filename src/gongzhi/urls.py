"""URL map: staff workbench, mobile pages, accounts, the JSON API."""

from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from gongzhi.api import api
from gongzhi.core import views as core_views
from gongzhi.orgs import views as orgs_views

urlpatterns = [
    path("", orgs_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("join/", include("gongzhi.accounts.urls_join")),
    path("core/", include("gongzhi.core.urls")),
    path("registry/", include("gongzhi.orgs.urls")),
    path("registry/excel/", include("gongzhi.orgs.urls_excel")),
    path("registry/setup/", include("gongzhi.orgs.urls_setup")),
    path("appeals/", include("gongzhi.appeals.urls")),
    path("participation/", include("gongzhi.participation.urls")),
    path("open311/v2/", include("gongzhi.appeals.open311_urls")),
    path("dashboards/", include(("gongzhi.dashboards.urls", "dashboards"))),
    path("notices/", include(("gongzhi.notify.urls", "notify"))),
    path("api/v1/", api.urls),
    path("healthz", core_views.healthz, name="healthz"),
    # What a browser asks for on a page without an icon link (a file, an htmx fragment opened on its own).
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("gongzhi/favicon.svg"))),
]
