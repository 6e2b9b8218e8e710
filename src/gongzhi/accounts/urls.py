from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.me, name="me"),
    path("me/password/", views.password_change, name="password_change"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("locks/", views.locks, name="locks"),
    path("locks/lift/", views.lock_lift, name="lock_lift"),
    path("users/tokens/", views.token_admin, name="token_admin"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views.user_role_assign, name="user_role_assign"),
    path("users/<int:pk>/roles/<int:role_pk>/withdraw/", views.user_role_withdraw, name="user_role_withdraw"),
    path("users/<int:pk>/password-reset/", views.user_password_reset, name="user_password_reset"),
    path("users/<int:pk>/disable/", views.user_disable, name="user_disable"),
    path("users/<int:pk>/enable/", views.user_enable, name="user_enable"),
    path("users/roster/", views.roster_index, name="roster"),
    path("users/roster/template.xlsx", views.roster_template, name="roster_template"),
    path("users/roster/import/", views.roster_upload, name="roster_upload"),
    path("users/roster/jobs/<int:pk>/", views.roster_job, name="roster_job"),
    path("users/roster/jobs/<int:pk>/progress/", views.roster_job_progress, name="roster_job_progress"),
    path("users/roster/jobs/<int:pk>/errors.xlsx", views.roster_job_errors, name="roster_job_errors"),
    path("users/roster/jobs/<int:pk>/codes.xlsx", views.roster_codes, name="roster_codes"),
    path("users/roster/export/", views.roster_export, name="roster_export"),
    path("activate/", views.activate, name="activate"),
    path("party-members/<int:pk>/account/", views.party_member_account, name="party_member_account"),
]
