"""The header cart count on every page: one aggregate query when rendered, no writes."""

from functools import cache

from django.http import HttpRequest

from apps.cart.selectors import item_count


def cart(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)

    @cache
    def count() -> int:
        # Called by the template engine only if the page shows the count (once, cached).
        if session is None:
            return 0
        return item_count(user=user, session=session)

    return {"cart_count": count}
