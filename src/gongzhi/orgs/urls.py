"""Registry pages: tree, nodes, grids, households, residents, search, the grid worker's mobile page."""

from django.urls import path  # noqa: F401

app_name = "orgs"
urlpatterns: list = []
