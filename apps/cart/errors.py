"""Errors cart services raise; views turn them into messages and the API into envelopes."""

from collections.abc import Sequence
from dataclasses import dataclass

# What a write based on an older version of the cart is told, on the page and in the API.
STALE_MESSAGE = (
    "Your cart changed in another tab or window; here is the current cart. Nothing was changed."
)


@dataclass(frozen=True)
class Detail:
    field: str
    code: str
    message: str


class CartError(Exception):
    """A request the cart refuses, with a code and a message for the shopper."""

    code = "CART_ERROR"
    status = 400

    def __init__(self, message: str, *, details: Sequence[Detail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)


class InvalidQuantity(CartError):
    code = "INVALID_QUANTITY"


class ProductUnavailable(CartError):
    code = "PRODUCT_UNAVAILABLE"


class InsufficientStock(CartError):
    code = "INSUFFICIENT_STOCK"

    def __init__(self, message: str, *, available: int) -> None:
        super().__init__(message, details=[Detail("quantity", "insufficient_stock", message)])
        self.available = available


class InvalidCustomization(CartError):
    code = "INVALID_CUSTOMIZATION"


class LineNotFound(CartError):
    code = "NOT_FOUND"
    status = 404


class CouponRejected(CartError):
    code = "COUPON_INVALID"
    status = 422


class CartNotActive(CartError):
    code = "CART_NOT_ACTIVE"
    status = 409


class CartGone(CartNotActive):
    """The cart was deleted after the request found it (a sign-in merge moved it into the
    customer's cart). For the API it is simply not there: 404, as any cart not yours."""

    code = "NOT_FOUND"
    status = 404


class StaleCart(CartError):
    """The write was based on an older version of the cart."""

    code = "CART_VERSION_CONFLICT"
    status = 409

    def __init__(self, current_version: int) -> None:
        super().__init__(STALE_MESSAGE)
        self.current_version = current_version
