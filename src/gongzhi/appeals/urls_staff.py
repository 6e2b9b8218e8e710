"""Staff appeal pages (mounted at /appeals/): the list, the work queues, the appeal page and its actions."""

from django.urls import path

from . import views_staff as views

urlpatterns = [
    path("", views.appeal_list, name="list"),
    path("queue/", views.queue, name="queues"),
    path("queue/<slug:kind>/", views.queue, name="queue"),
    path("<int:pk>/", views.appeal_detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", views.appeal_act, name="act"),
    path("<int:pk>/photo/<int:photo_pk>/", views.photo, name="photo"),
]
