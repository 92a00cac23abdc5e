"""The category navigation shown in every page's header (one query, top level only)."""

from django.http import HttpRequest

from apps.catalog.selectors import navigation_categories


def navigation(request: HttpRequest) -> dict[str, object]:
    return {"nav_categories": navigation_categories}
