"""The resident's phone pages for appeals and staff filing for residents (mounted at /appeals/m/)."""

from django.urls import path

from . import views_resident as views

urlpatterns = [
    path("", views.my_list, name="m_list"),
    path("new/", views.file_new, name="m_new"),
    path("new/fields/", views.category_fields, name="m_fields"),
    path("new/duplicates/", views.duplicates, name="m_duplicates"),
    path("new/places.geojson", views.places, name="m_places"),
    path("<int:pk>/", views.detail, name="m_detail"),
    path("<int:pk>/rate/", views.rate, name="m_rate"),
    path("<int:pk>/follow/", views.follow, name="m_follow"),
    path("<int:pk>/photo/<int:photo_pk>/", views.photo, name="m_photo"),
    path("file-for/", views.file_for, name="file_for"),
    path("file-for/residents/", views.file_for_residents, name="file_for_residents"),
]
