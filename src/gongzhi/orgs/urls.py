"""Registry pages: tree, nodes, grids, households, residents, search, the grid worker's mobile page."""

from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("tree/<int:pk>/children/", views.tree_children, name="tree_children"),
    path("node/<int:pk>/", views.node_detail, name="node"),
    path("node/<int:pk>/split/", views.grid_split, name="grid_split"),
    path("compound/<int:pk>/", views.compound_detail, name="compound"),
    path("building/<int:pk>/", views.building_detail, name="building"),
    path("household/<int:pk>/", views.household_detail, name="household"),
    path("household/<int:pk>/move/", views.household_move, name="household_move"),
    path("residents/", views.resident_list, name="residents"),
    path("resident/<int:pk>/", views.resident_detail, name="resident"),
    path("resident/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("resident/<int:pk>/move/", views.resident_move, name="resident_move"),
    path("resident/<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("search/", views.search, name="search"),
    path("m/", views.mobile, name="mobile"),
    path("mine/", views.mine, name="mine"),
    path("mine/party/", views.mine_party, name="mine_party"),
    path("party/", views.party_list, name="party"),
    path("party/<int:pk>/", views.party_org_detail, name="party_org"),
    path("units/", views.unit_list, name="units"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
]
