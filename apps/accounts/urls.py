from django.urls import path

from apps.accounts import password_reset, views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-up/", views.sign_up, name="sign_up"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("password-reset/", password_reset.RequestView.as_view(), name="password_reset"),
    path("password-reset/sent/", password_reset.DoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/done/",
        password_reset.CompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        password_reset.ConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
