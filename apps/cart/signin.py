"""The cart's sign-in handler: merge the guest cart into the customer's cart.

The guest cart id leaves the session only once the merge has succeeded. The sign-in hooks
log and swallow errors, so a failed merge (a lock timeout, a deadlock) would orphan the
guest cart silently: the shopper is told instead, and opening the cart page tries again
(`retry_pending_merge`).
"""

import logging
from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from apps.cart import merge
from apps.cart.selectors import CART_SESSION_KEY

logger = logging.getLogger(__name__)

MERGE_FAILED = (
    "We couldn't bring over your guest cart; your items are kept. Open your cart to try again."
)


def _cart_id(raw: object) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _merge(request: HttpRequest, user: AbstractBaseUser, guest_cart_id: int | None) -> None:
    try:
        result = merge.merge_guest_cart(guest_cart_id, user)
    except Exception:  # any failure: keep the id for a retry and tell the shopper
        logger.exception(
            "guest cart merge failed", extra={"guest_cart_id": guest_cart_id, "user_id": user.pk}
        )
        if guest_cart_id is not None:
            # login() may have flushed the session (another user was signed in).
            request.session[CART_SESSION_KEY] = guest_cart_id
            messages.error(request, MERGE_FAILED)
        return
    request.session.pop(CART_SESSION_KEY, None)
    for note in result.messages:
        level = messages.INFO if note.startswith("We added") else messages.WARNING
        messages.add_message(request, level, note)


def merge_on_sign_in(
    request: HttpRequest, user: AbstractBaseUser, previous_session: Mapping[str, object]
) -> None:
    previous_user = previous_session.get(SESSION_KEY)
    if previous_user is not None and str(previous_user) != str(user.pk):
        # Someone else was signed in on this browser: a guest cart id still in their
        # session (a merge of theirs that failed) is theirs, not the new customer's.
        request.session.pop(CART_SESSION_KEY, None)
        return
    raw = previous_session.get(CART_SESSION_KEY, request.session.get(CART_SESSION_KEY))
    _merge(request, user, _cart_id(raw))


def retry_pending_merge(request: HttpRequest) -> None:
    """A signed-in shopper whose session still holds a guest cart id: the merge at sign-in
    failed; try it again (a guest cart merges once, so a repeat is harmless)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    guest_cart_id = _cart_id(request.session.get(CART_SESSION_KEY))
    if guest_cart_id is not None:
        _merge(request, user, guest_cart_id)
