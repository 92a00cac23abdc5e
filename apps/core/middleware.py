"""Request plumbing: a request id for logs and X-Request-ID, and NUL bytes refused early."""

import re
import uuid
from collections.abc import Callable, Iterable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from apps.core.api import failure_body
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
UNDECODABLE_MESSAGE = "The form data could not be decoded; send it as UTF-8."


def _has_nul(items: Iterable[tuple[str, list[str]]]) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in items)


class RejectNulMiddleware:
    """A NUL in the path, query string or URL-encoded form data is a 400, never a 500.

    PostgreSQL cannot store or compare text containing NUL, so `?kind=%00` on an admin
    changelist, a search or a slug lookup failed in the database. Answered before any view:
    a plain page, or the API's JSON envelope under /api/.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self._problem(request)
        if problem:
            return self._bad_request(request, problem)
        return self.get_response(request)

    @staticmethod
    def _problem(request: HttpRequest) -> str | None:
        if "\x00" in request.path or _has_nul(request.GET.lists()):
            return NUL_MESSAGE
        # URL-encoded form bodies only, and not under /api/ (DRF parses, and refuses non-JSON
        # bodies with 415, there). Multipart bodies are left alone: parsing one here would
        # stream uploads to disk before CSRF has looked at the request, and leave
        # request.body unreadable for views that need the raw bytes. Form fields refuse NUL
        # themselves (Django's CharField validator), so a multipart NUL is a form error.
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and not request.path.startswith("/api/")
        ):
            try:
                return NUL_MESSAGE if _has_nul(request.POST.lists()) else None
            except (BadRequest, UnicodeDecodeError, LookupError):
                return UNDECODABLE_MESSAGE
        return None

    @staticmethod
    def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(failure_body(request, "INVALID_REQUEST", message), status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
