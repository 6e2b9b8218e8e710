"""Excel pages: import template, import with progress, row-error report, registry export."""

from django.urls import path

from . import views_excel as views

app_name = "excel"
urlpatterns = [
    path("", views.index, name="index"),
    path("template.xlsx", views.template, name="template"),
    path("import/", views.upload, name="upload"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/errors.xlsx", views.job_errors, name="job_errors"),
    path("export/", views.export, name="export"),
]
