"""County set-up pages: the county from the division codes, the places workbook, the checklist."""

from django.urls import path

from . import views_setup as views

app_name = "setup"
urlpatterns = [
    path("", views.index, name="index"),
    path("divisions/", views.cascade, name="cascade"),
    path("county/", views.county, name="county"),
    path("places-template.xlsx", views.template, name="template"),
    path("places/", views.upload, name="upload"),
    path("checklist/<int:pk>/", views.checklist_part, name="checklist"),
]
