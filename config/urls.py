"""Root URLs: storefront pages, admin, API, health check."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseBase
from django.urls import include, path, re_path
from django.views.static import serve

from apps.core.api_views import SchemaView, server_error
from apps.core.api_views import not_found as api_not_found
from apps.core.views import healthz

# Uploads share the shop's origin: whatever a file holds (an SVG with a script that got
# past the upload checks), a browser opening it runs nothing, loads nothing and never
# guesses another type. Web servers or CDNs serving /media/ should send the same headers.
MEDIA_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


def serve_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """django.views.static.serve (dev, SERVE_MEDIA) with MEDIA_HEADERS on every file."""
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    for name, value in MEDIA_HEADERS.items():
        response[name] = value
    return response


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/", include("apps.cart.api_urls")),
    path("api/", include("apps.checkout.api_urls")),
    # Last of /api/: whatever no API route matched is the envelope's 404, not HTML.
    re_path(r"^api/", api_not_found),  # a prefix: any rest, newlines included
    path("cart/", include("apps.cart.urls")),
    path("checkout/", include("apps.checkout.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("account/addresses/", include("apps.checkout.account_urls")),
    path("", include("apps.storefront.urls")),
]

# Errors raised outside DRF: the envelope under /api/, templates/500.html elsewhere. /api/
# 404s need no handler404: the catch-all route above answers them.
handler500 = server_error

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve_media),
    ]
