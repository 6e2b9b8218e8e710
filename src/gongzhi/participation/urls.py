from django.urls import path

from . import views

app_name = "participation"
urlpatterns = [
    path("wishes/", views.wish_list, name="wishes"),
    path("wishes/new/<int:resident_pk>/", views.wish_new, name="wish_new"),
    path("wishes/<int:pk>/", views.wish_detail, name="wish"),
    path("wishes/<int:pk>/<slug:step>/", views.wish_step, name="wish_step"),
    path("m/", views.m_home, name="m_home"),
    path("m/wish/", views.m_wish_new, name="m_wish_new"),
]
