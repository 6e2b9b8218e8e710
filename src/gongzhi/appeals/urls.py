"""Appeal pages: the resident's phone pages, the staff workbench, the admin settings."""

from django.urls import include, path

app_name = "appeals"
urlpatterns = [
    path("m/", include("gongzhi.appeals.urls_resident")),
    path("admin/", include("gongzhi.appeals.urls_admin")),
    path("", include("gongzhi.appeals.urls_staff")),
]
