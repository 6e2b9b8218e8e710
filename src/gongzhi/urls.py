"""URL map: staff workbench, mobile pages, accounts, the JSON API."""

from django.urls import include, path

from gongzhi.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("healthz", core_views.healthz, name="healthz"),
]
