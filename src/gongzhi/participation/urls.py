from django.urls import path

from . import views

app_name = "participation"
urlpatterns = [
    path("wishes/", views.wish_list, name="wishes"),
    path("wishes/new/<int:resident_pk>/", views.wish_new, name="wish_new"),
    path("wishes/<int:pk>/", views.wish_detail, name="wish"),
    path("wishes/<int:pk>/<slug:step>/", views.wish_step, name="wish_step"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/<slug:step>/", views.order_step, name="order_step"),
    path("services/", views.service_list, name="services"),
    path("party/reports/", views.dual_list, name="dual"),
    path("party/reports/<int:pk>/<slug:decision>/", views.dual_decide, name="dual_decide"),
    path("m/", views.m_home, name="m_home"),
    path("m/report/", views.dual_register, name="dual_register"),
    path("m/order/", views.m_order_new, name="m_order_new"),
    path("m/wish/", views.m_wish_new, name="m_wish_new"),
]
