"""Plumbing views: the health check."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import check_cache, check_database


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "cache": check_cache()}
    down = {name: reason for name, reason in checks.items() if reason}
    body: dict[str, object] = {
        "status": "ok" if not down else "unavailable",
        "checks": {name: ("ok" if reason is None else "down") for name, reason in checks.items()},
    }
    if down:
        body["down"] = sorted(down)
        body["errors"] = down
    return JsonResponse(body, status=503 if down else 200)
