from django.urls import path

from apps.cart import views

app_name = "cart"

urlpatterns = [
    path("", views.detail, name="detail"),
    path("add/", views.add, name="add"),
    path("clear/", views.clear, name="clear"),
    path("checkout/", views.checkout, name="checkout"),
    path("lines/<int:line_id>/", views.update_line, name="update_line"),
    path("lines/<int:line_id>/remove/", views.remove_line, name="remove_line"),
    path("coupons/", views.apply_coupon, name="apply_coupon"),
    path("coupons/<int:coupon_id>/remove/", views.remove_coupon, name="remove_coupon"),
]
