"""The cart's sign-in handler: merge the guest cart into the customer's cart."""

from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from apps.cart import services
from apps.cart.selectors import CART_SESSION_KEY


def merge_on_sign_in(
    request: HttpRequest, user: AbstractBaseUser, previous_session: Mapping[str, object]
) -> None:
    raw = previous_session.get(CART_SESSION_KEY, request.session.get(CART_SESSION_KEY))
    guest_cart_id = raw if isinstance(raw, int) else None
    request.session.pop(CART_SESSION_KEY, None)
    result = services.merge_guest_cart(guest_cart_id, user)
    for note in result.messages:
        level = messages.INFO if note.startswith("We added") else messages.WARNING
        messages.add_message(request, level, note)
