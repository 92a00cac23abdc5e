from django.urls import path

from apps.checkout import views

app_name = "checkout"

urlpatterns = [
    path("", views.cart_review, name="start"),
    path("identify/", views.identify, name="identify"),
    path("guest/", views.guest, name="guest"),
    path("shipping-address/", views.shipping_address, name="shipping_address"),
    path("billing-address/", views.billing_address, name="billing_address"),
    path("shipping-method/", views.shipping_method, name="shipping_method"),
    path("payment/", views.payment, name="payment"),
    path("review/", views.review, name="review"),
    path("cancel/", views.cancel, name="cancel"),
]
