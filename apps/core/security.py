"""Edge rules every response shares: methods the shop never serves, and Permissions-Policy.

The Content-Security-Policy comes from django-csp (settings.CONTENT_SECURITY_POLICY).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import Resolver404, resolve

from apps.core.api import failure_body

# Everything a view here may implement. TRACE (it echoes the request, cookies included),
# TRACK, CONNECT, WebDAV's and made-up methods are in no view's list.
SERVED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What the shop's function views accept at most: pages and HTML forms. Each narrows it
# further itself (require_GET, require_POST, require_http_methods) and answers its own 405.
FUNCTION_VIEW_METHODS = ("GET", "HEAD", "POST")


def allowed_methods(path: str) -> list[str]:
    """The methods the view at `path` serves, for a 405's Allow header."""
    try:
        func = resolve(path).func
    except Resolver404:
        return ["GET", "HEAD"]
    view_class = getattr(func, "view_class", None) or getattr(func, "cls", None)
    if view_class is None:
        return list(FUNCTION_VIEW_METHODS)
    # A class-based view (Django's View or DRF's APIView) serves its handler methods, and
    # HEAD wherever it serves GET.
    names = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    if "GET" in names:
        names.add("HEAD")
    return [m for m in SERVED_METHODS if m in names]


class RefuseUnservedMethodsMiddleware:
    """A method outside SERVED_METHODS is a 405 with Allow, before any view runs.

    Function views without a method decorator render their page for any method, and CSRF
    treats TRACE as safe, so `TRACE /` answered 200. Under /api/ the answer is the JSON
    envelope, like every API error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SERVED_METHODS:
            return self.get_response(request)
        allow = allowed_methods(request.path_info)
        response: HttpResponse
        if request.path_info.startswith("/api/"):
            body = failure_body(request, "METHOD_NOT_ALLOWED", "Method not allowed.")
            response = JsonResponse(body, status=405)
            response["Allow"] = ", ".join(allow)
        else:
            response = HttpResponseNotAllowed(allow)
        return response


class PermissionsPolicyMiddleware:
    """Permissions-Policy (settings.PERMISSIONS_POLICY) on every response that has none:
    no page of the shop uses a camera, microphone, location or payment API, so no page
    (nor anything injected into one) gets to ask."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allowlist)})"
            for feature, allowlist in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response
