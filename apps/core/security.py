"""Edge rules every response shares: methods the shop never serves, and Permissions-Policy.

The Content-Security-Policy comes from django-csp (settings.CONTENT_SECURITY_POLICY).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import Resolver404, resolve

from apps.core.api import failure_body

# Everything a view here may implement. TRACE (it echoes the request, cookies included),
# TRACK, CONNECT, WebDAV's and made-up methods are in no view's list.
SERVED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What a page's function view serves at most: pages and HTML forms (the admin's too). Many
# narrow it further themselves (require_GET, require_POST, require_http_methods) with their
# own 405. The API's views are DRF classes (and its catch-all 404 answers any method).
FUNCTION_VIEW_METHODS = ("GET", "HEAD", "POST")


def _view_class(func: Callable[..., Any]) -> type | None:
    view_class = getattr(func, "view_class", None) or getattr(func, "cls", None)
    return view_class if isinstance(view_class, type) else None


def allowed_methods(path: str) -> list[str]:
    """The methods the view at `path` serves, for a 405's Allow header."""
    try:
        func = resolve(path).func
    except Resolver404:
        return ["GET", "HEAD"]
    view_class = _view_class(func)
    if view_class is None:
        return list(FUNCTION_VIEW_METHODS)
    # A class-based view (Django's View or DRF's APIView) serves its handler methods, and
    # HEAD wherever it serves GET.
    handlers = getattr(view_class, "http_method_names", [])
    names = {m.upper() for m in handlers if hasattr(view_class, m)}
    if "GET" in names:
        names.add("HEAD")
    return [m for m in SERVED_METHODS if m in names]


class RefuseUnservedMethodsMiddleware:
    """A method no view serves is a 405 with Allow, before the view (and CSRF) runs.

    Function views without a method decorator render their page for any method, and CSRF
    treats TRACE as safe, so `TRACE /` answered 200. Refused: anything outside
    SERVED_METHODS on any path (before routing, static files included), and anything
    outside FUNCTION_VIEW_METHODS on a page's function view. Class-based views answer for
    themselves (Django's View and DRF's APIView 405 what they have no handler for). Under
    /api/ the answer is the JSON envelope, like every API error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SERVED_METHODS:
            return self.get_response(request)
        return self._not_allowed(request, allowed_methods(request.path_info))

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if (
            request.method not in FUNCTION_VIEW_METHODS
            and _view_class(view_func) is None
            and not request.path_info.startswith("/api/")
        ):
            return self._not_allowed(request, list(FUNCTION_VIEW_METHODS))
        return None

    @staticmethod
    def _not_allowed(request: HttpRequest, allow: list[str]) -> HttpResponse:
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
