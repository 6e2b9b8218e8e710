"""Dashboard pages (mounted at /dashboards/, namespace "dashboards")."""

from django.urls import path

from . import views

urlpatterns = [
    path("appeals/", views.appeals_dashboard, name="appeals"),
    path("appeals/data/", views.appeals_data, name="appeals_data"),
    path("appeals/ledger.xlsx", views.ledger_xlsx, name="ledger"),
]
