"""Views of the API's plumbing: the OpenAPI document, the 404 for unmatched /api/
addresses and the 500 for errors raised outside DRF, all answering errors in the envelope
(apps.core.api). Apart from apps.core.api
because DRF's views read DEFAULT_PARSER_CLASSES, which names a class defined there."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import INTERNAL_ERROR_MESSAGE, failure_body


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any /api/ address no route matches (an unknown path, a non-integer id): the
    envelope's 404, not the storefront's HTML page. CSRF-exempt so that an unsafe method
    gets this 404 rather than the HTML CSRF failure page."""
    return JsonResponse(
        failure_body(request, "NOT_FOUND", "Not found."), status=status.HTTP_404_NOT_FOUND
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500, for errors DRF's handler never sees (a middleware, a plain view): under
    /api/ the envelope's INTERNAL_ERROR with no details, so API clients always get JSON and
    no internals; elsewhere the shop's templates/500.html."""
    if request.path_info.startswith("/api/"):
        body = failure_body(request, "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)
        return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


class SchemaView(SpectacularAPIView):
    """The OpenAPI document (YAML, or JSON with ?format=json). Its errors (405, 406, an
    unknown ?format) are the JSON envelope like the rest of /api/, not a YAML rendering."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if response.status_code >= status.HTTP_400_BAD_REQUEST:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
