"""Appeal settings pages (mounted at /appeals/admin/): categories, deadline policies, routing, the calendar."""

from django.urls import path

from . import views_admin as views

urlpatterns = [
    path("", views.index, name="admin_index"),
    path("categories/", views.categories, name="admin_categories"),
    path("categories/new/", views.category_edit, name="admin_category_new"),
    path("categories/<int:pk>/", views.category_edit, name="admin_category_edit"),
    path("policies/", views.policies_list, name="admin_policies"),
    path("policies/new/", views.policy_edit, name="admin_policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="admin_policy_edit"),
    path("routing/", views.routing_rules, name="admin_routing"),
    path("routing/new/", views.routing_rule_edit, name="admin_rule_new"),
    path("routing/<int:pk>/", views.routing_rule_edit, name="admin_rule_edit"),
    path("routing/<int:pk>/delete/", views.routing_rule_delete, name="admin_rule_delete"),
    path("calendar/", views.calendar_year, name="admin_calendar"),
    path("calendar/<int:year>/", views.calendar_year, name="admin_calendar_year"),
]
