"""The API envelope every JSON endpoint answers with, and DRF's exception handler.

    {"success": bool, "data": ..., "error": {"code", "message", "details": [{field,
     code, message}]}, "metadata": {"timestamp", "requestId", "version"}}

Views return `success(request, data)` / `failure(request, ...)` or raise ApiError;
anything else DRF raises (validation, 404, throttling, CSRF) is turned into the same
shape here. Unexpected exceptions become INTERNAL_ERROR without internal details.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.metadata import SimpleMetadata
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.json import strict_constant

from apps.core.request_context import request_id_var

if TYPE_CHECKING:  # rest_framework.views reads DEFAULT_PARSER_CLASSES, defined here
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

API_VERSION = "1.0"


class CsrfSessionAuthentication(SessionAuthentication):
    """Session auth that checks CSRF for every unsafe request, guests included: a guest's
    cart lives in their session too, so it needs the same protection."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)
        return super().authenticate(request)


class SessionAuthenticationWithoutCsrf(SessionAuthentication):
    """Session auth without the CSRF check, for the one endpoint a browser client calls
    before it has a token: POST /api/cart (get-or-create your own cart, no input). A forged
    cross-site call can only create an empty cart for the victim and cannot read the answer;
    the response sets the csrftoken cookie every later write needs."""

    def enforce_csrf(self, request: Request) -> None:
        return None


def _session_cookie(description: str) -> dict[str, str]:
    return {
        "type": "apiKey",
        "in": "cookie",
        "name": settings.SESSION_COOKIE_NAME,
        "description": description,
    }


class CsrfSessionCookieScheme(OpenApiAuthenticationExtension):
    """CsrfSessionAuthentication in the schema: the session cookie, and on unsafe methods
    the CSRF token header as well (guests included)."""

    target_class = CsrfSessionAuthentication
    name = ["sessionCookie", "csrfToken"]
    priority = 1

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        if str(getattr(auto_schema, "method", "GET")).upper() in SAFE_METHODS:
            return {"sessionCookie": []}
        return {"sessionCookie": [], "csrfToken": []}

    def get_security_definition(self, auto_schema: object) -> list[dict[str, str]]:
        return [
            _session_cookie("Your session: a guest's cart lives in it too."),
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRFToken",
                "description": f"The value of the {settings.CSRF_COOKIE_NAME} cookie (set by "
                "POST /api/cart and GET /api/cart/{id}); required on every unsafe method.",
            },
        ]


class CsrfExemptSessionCookieScheme(OpenApiAuthenticationExtension):
    """SessionAuthenticationWithoutCsrf in the schema: the same session cookie under its own
    name (one name per auth class, or drf-spectacular reports a component collision)."""

    target_class = SessionAuthenticationWithoutCsrf
    name = "sessionCookieCsrfExempt"
    priority = 1

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return _session_cookie("Your session cookie; this operation needs no CSRF token.")


# No request body of ours nests deeper than a few levels; this leaves room and stays far
# below the interpreter's recursion limit, which the JSON decoder and serializers share.
MAX_JSON_DEPTH = 32


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with two limits: the body size (DATA_UPLOAD_MAX_MEMORY_SIZE, else
    413) and the nesting depth (MAX_JSON_DEPTH, else 400). DRF otherwise reads an unread
    body to its end whatever its size, and ~1,000 nested arrays make the decoder raise
    RecursionError."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:  # any JSON value (DRF's stub says dict); the serializers check its shape
        context = parser_context or {}
        limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raise exceptions.ParseError("The request body is empty.")
        request = context.get("request")
        if limit is not None and _content_length(request) > limit:
            raise PayloadTooLarge()
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge()
        try:
            text = raw.decode(context.get("encoding") or settings.DEFAULT_CHARSET)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError("The body is not text in the declared charset.") from exc
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError as exc:
            raise _too_deep() from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data


def _content_length(request: object) -> int:
    meta = getattr(request, "META", None) or {}
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")


def _deeper_than(value: object, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[object] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class ApiError(Exception):
    """A business error with a stable code, a shopper-facing message and an HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        details: Sequence[Mapping[str, str]] = (),
        data: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.details = [dict(d) for d in details]
        self.data = data
        self.headers = dict(headers or {})


def metadata(request: object | None = None) -> dict[str, str]:
    request_id = getattr(request, "request_id", None) or getattr(
        getattr(request, "_request", None), "request_id", None
    )
    return {
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "requestId": str(request_id or request_id_var.get()),
        "version": API_VERSION,
    }


def success(request: object, data: object, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(
        {"success": True, "data": data, "metadata": metadata(request)}, status=status_code
    )


def failure(
    request: object,
    code: str,
    message: str,
    *,
    status_code: int = status.HTTP_400_BAD_REQUEST,
    details: Sequence[Mapping[str, str]] = (),
    data: object = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = failure_body(request, code, message, details=details, data=data)
    return Response(body, status=status_code, headers=dict(headers or {}))


INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. Please try again."


def failure_body(
    request: object,
    code: str,
    message: str,
    *,
    details: Sequence[Mapping[str, str]] = (),
    data: object = None,
) -> dict[str, object]:
    """The error envelope, also for answers given before DRF runs (middleware)."""
    body: dict[str, object] = {
        "success": False,
        "error": {"code": code, "message": message, "details": [dict(d) for d in details]},
        "metadata": metadata(request),
    }
    if data is not None:
        body["data"] = data
    return body


def _flatten(detail: Any, field: str = "") -> list[dict[str, str]]:
    """DRF's nested ValidationError detail -> [{field, code, message}]."""
    out: list[dict[str, str]] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if isinstance(key, int):
                out += _flatten(value, f"{field}[{key}]")
                continue
            name = str(key) if key != "non_field_errors" else ""
            out += _flatten(value, f"{field}.{name}" if field and name else (name or field))
    elif isinstance(detail, list | tuple):
        for index, value in enumerate(detail):
            if isinstance(value, Mapping | list | tuple):
                out += _flatten(value, f"{field}[{index}]")
            else:
                out += _flatten(value, field)
    else:
        code = getattr(detail, "code", None) or "invalid"
        out.append({"field": field, "code": str(code), "message": str(detail)})
    return out


_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotFound: ("NOT_FOUND", "Not found."),
    exceptions.MethodNotAllowed: ("METHOD_NOT_ALLOWED", "Method not allowed."),
    exceptions.NotAcceptable: ("NOT_ACCEPTABLE", "Not acceptable."),
    exceptions.UnsupportedMediaType: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type."),
    exceptions.ParseError: ("PARSE_ERROR", "The request body could not be read."),
    PayloadTooLarge: ("PAYLOAD_TOO_LARGE", "The request body is too large."),
    exceptions.NotAuthenticated: ("NOT_AUTHENTICATED", "Sign in to continue."),
    exceptions.AuthenticationFailed: ("AUTHENTICATION_FAILED", "Sign in to continue."),
    exceptions.PermissionDenied: ("PERMISSION_DENIED", "You cannot do that."),
    exceptions.Throttled: ("RATE_LIMITED", "Too many requests; please try again later."),
}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    request = context.get("request")
    if isinstance(exc, ApiError):
        return failure(
            request,
            exc.code,
            exc.message,
            status_code=exc.status_code,
            details=exc.details,
            data=exc.data,
            headers=exc.headers,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation | BadRequest):
        return failure(request, "BAD_REQUEST", "The request is malformed.")
    if isinstance(exc, exceptions.ValidationError):
        return failure(
            request,
            "VALIDATION_ERROR",
            "The request contains invalid data.",
            details=_flatten(exc.detail),
        )
    if isinstance(exc, exceptions.APIException):
        code, message = next(
            ((c, m) for kind, (c, m) in _CODES.items() if isinstance(exc, kind)),
            ("ERROR", "The request could not be handled."),
        )
        if isinstance(exc, exceptions.PermissionDenied | exceptions.NotAuthenticated):
            text = str(exc.detail)
            if "CSRF" in text:
                code, message = "CSRF_FAILED", "Your session expired; reload the page and retry."
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and isinstance(wait, int | float):
            headers["Retry-After"] = str(int(wait) + 1)
        status_code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated):
            status_code = status.HTTP_403_FORBIDDEN
        details: list[dict[str, str]] = []
        if isinstance(exc, exceptions.ParseError) and str(exc.detail) != str(exc.default_detail):
            details = [{"field": "", "code": "parse_error", "message": str(exc.detail)}]
        return failure(
            request, code, message, status_code=status_code, headers=headers, details=details
        )
    logger.exception("unhandled API error")
    return failure(
        request,
        "INTERNAL_ERROR",
        INTERNAL_ERROR_MESSAGE,
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


class EnvelopeMetadata(SimpleMetadata):
    """OPTIONS answers in the envelope as well (DRF's default is a bare object)."""

    def determine_metadata(self, request: Request, view: "APIView") -> dict[str, object]:
        data = super().determine_metadata(request, view)
        return {"success": True, "data": data, "metadata": metadata(request)}


# --- OpenAPI shapes of the envelope (drf-spectacular components) -----------------------


class ProblemSchema(serializers.Serializer[dict[str, object]]):
    field = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSchema(serializers.Serializer[dict[str, object]]):
    code = serializers.CharField()
    message = serializers.CharField()
    details = ProblemSchema(many=True)


class MetadataSchema(serializers.Serializer[dict[str, object]]):
    timestamp = serializers.CharField(help_text="ISO 8601, UTC")
    requestId = serializers.CharField()
    version = serializers.CharField()


def envelope(
    name: str,
    data: serializers.BaseSerializer[Any] | None,
    *,
    error: bool = False,
) -> type[serializers.Serializer[dict[str, object]]]:
    """The ApiResponse envelope around `data`, as a named schema component: a success
    (success true, data) or, with error=True, a failure (success false, error, and
    `data` only when given, e.g. the current cart of a 409)."""
    fields: dict[str, object] = {
        "success": serializers.BooleanField(),
        "error": ErrorSchema(required=error),
        "metadata": MetadataSchema(),
    }
    if data is not None:
        fields["data"] = data
    elif not error:
        fields["data"] = serializers.JSONField(allow_null=True)
    return type(name, (serializers.Serializer,), fields)


ERROR_ENVELOPE = envelope("ErrorEnvelope", None, error=True)
# Answers any endpoint that takes a body may give (CsrfSessionAuthentication, the parsers).
CSRF_FAILED = OpenApiResponse(ERROR_ENVELOPE, description="CSRF_FAILED")
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    ERROR_ENVELOPE, description="UNSUPPORTED_MEDIA_TYPE: a body must be application/json"
)


def describe_body_limits(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation that takes a body may answer
    413 PAYLOAD_TOO_LARGE (BoundedJSONParser), in the error envelope."""
    if "ErrorEnvelope" not in result.get("components", {}).get("schemas", {}):
        return result
    too_large = {
        "description": "PAYLOAD_TOO_LARGE: the body is over DATA_UPLOAD_MAX_MEMORY_SIZE",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", too_large)
    return result


def describe_csrf_requirement(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: where an operation needs the CSRF token it is
    not optional, so the anonymous `{}` alternative (added for AllowAny) goes."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            security = operation.get("security") if isinstance(operation, dict) else None
            if security and any("csrfToken" in requirement for requirement in security):
                operation["security"] = [r for r in security if r]
    return result
