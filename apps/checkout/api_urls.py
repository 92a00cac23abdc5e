"""/api/checkout..., /api/addresses/validate, /api/shipping/calculate and /api/tax/calculate,
spelled as the spec spells them (no trailing slash); included under /api/ in config/urls.py."""

from django.urls import path

from apps.checkout import api

urlpatterns = [
    path("checkout/sessions", api.CheckoutSessionsApi.as_view(), name="api-checkout-sessions"),
    path(
        "checkout/sessions/<str:session_id>",
        api.CheckoutSessionApi.as_view(),
        name="api-checkout-session",
    ),
    path(
        "checkout/sessions/<str:session_id>/guest-info",
        api.GuestInfoApi.as_view(),
        name="api-checkout-guest-info",
    ),
    path(
        "checkout/sessions/<str:session_id>/shipping-address",
        api.ShippingAddressApi.as_view(),
        name="api-checkout-shipping-address",
    ),
    path(
        "checkout/sessions/<str:session_id>/billing-address",
        api.BillingAddressApi.as_view(),
        name="api-checkout-billing-address",
    ),
    path(
        "checkout/sessions/<str:session_id>/shipping-method",
        api.ShippingMethodApi.as_view(),
        name="api-checkout-shipping-method",
    ),
    path(
        "checkout/sessions/<str:session_id>/payment-method",
        api.PaymentMethodApi.as_view(),
        name="api-checkout-payment-method",
    ),
    path("addresses/validate", api.ValidateAddressApi.as_view(), name="api-address-validate"),
    path("shipping/calculate", api.ShippingCalculateApi.as_view(), name="api-shipping-calculate"),
    path("tax/calculate", api.TaxCalculateApi.as_view(), name="api-tax-calculate"),
]
