"""Plumbing views: the health check."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.core.health import report


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    body, status = report()
    return JsonResponse(body, status=status)
