"""Request plumbing: a request id for logs and X-Request-ID, and NUL bytes refused early."""

import re
import uuid
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from apps.core.api import metadata
from apps.core.request_context import request_id_var

# An incoming id is reused only if it looks like an id, so a header cannot inject log text.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


NUL_MESSAGE = "The request contains a NUL character, which is never valid here."
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(items: Iterable[tuple[str, list[str]]]) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in items)


class RejectNulMiddleware:
    """A NUL in the path, query string or form data is a 400, never a 500.

    PostgreSQL cannot store or compare text containing NUL, so `?kind=%00` on an admin
    changelist, a search or a slug lookup failed in the database. Answered before any view:
    a plain page, or the API's JSON envelope under /api/.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            return self._bad_request(request)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or _has_nul(request.GET.lists()):
            return True
        # Form bodies only, and not under /api/: reading request.POST here consumes the
        # body, and DRF there parses (and refuses non-JSON bodies with 415) on its own.
        if (
            request.method == "POST"
            and request.content_type in _FORM_TYPES
            and not request.path.startswith("/api/")
        ):
            files = ((key, [f.name or "" for f in found]) for key, found in request.FILES.lists())
            return _has_nul(request.POST.lists()) or _has_nul(files)
        return False

    @staticmethod
    def _bad_request(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            body = {
                "success": False,
                "error": {"code": "INVALID_REQUEST", "message": NUL_MESSAGE, "details": []},
                "metadata": metadata(request),
            }
            return JsonResponse(body, status=400)
        return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
