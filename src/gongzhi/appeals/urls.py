"""Appeal pages (mounted at /appeals/): the staff workbench, the resident's phone pages (m/), the settings (admin/)."""

from django.urls import include, path

from .views import admin, resident, staff

app_name = "appeals"

_staff = [
    path("", staff.appeal_list, name="list"),
    path("queue/", staff.queue, name="queues"),
    path("queue/<slug:kind>/", staff.queue, name="queue"),
    path("<int:pk>/", staff.appeal_detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", staff.appeal_act, name="act"),
    path("<int:pk>/photo/<int:photo_pk>/", staff.photo, name="photo"),
]

_resident = [
    path("", resident.my_list, name="m_list"),
    path("new/", resident.file_new, name="m_new"),
    path("new/fields/", resident.category_fields, name="m_fields"),
    path("new/duplicates/", resident.duplicates, name="m_duplicates"),
    path("new/places.geojson", resident.places, name="m_places"),
    path("<int:pk>/", resident.detail, name="m_detail"),
    path("<int:pk>/rate/", resident.rate, name="m_rate"),
    path("<int:pk>/follow/", resident.follow, name="m_follow"),
    path("<int:pk>/photo/<int:photo_pk>/", resident.photo, name="m_photo"),
    path("file-for/", resident.file_for, name="file_for"),
    path("file-for/residents/", resident.file_for_residents, name="file_for_residents"),
]

_admin = [
    path("", admin.index, name="admin_index"),
    path("categories/", admin.categories, name="admin_categories"),
    path("categories/new/", admin.category_edit, name="admin_category_new"),
    path("categories/<int:pk>/", admin.category_edit, name="admin_category_edit"),
    path("policies/", admin.policies_list, name="admin_policies"),
    path("policies/new/", admin.policy_edit, name="admin_policy_new"),
    path("policies/<int:pk>/", admin.policy_edit, name="admin_policy_edit"),
    path("routing/", admin.routing_rules, name="admin_routing"),
    path("routing/new/", admin.routing_rule_edit, name="admin_rule_new"),
    path("routing/<int:pk>/", admin.routing_rule_edit, name="admin_rule_edit"),
    path("routing/<int:pk>/delete/", admin.routing_rule_delete, name="admin_rule_delete"),
    path("calendar/", admin.calendar_year, name="admin_calendar"),
    path("calendar/<int:year>/", admin.calendar_year, name="admin_calendar_year"),
]

urlpatterns = [
    path("m/", include(_resident)),
    path("admin/", include(_admin)),
    path("", include(_staff)),
]
