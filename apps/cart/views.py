"""Cart pages. Thin: parse a form, call one service, redirect with a message.

Every write from the cart page carries the cart version it was rendered with; a stale
one changes nothing and shows the current cart.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from apps.cart import selectors, services, signin
from apps.cart.errors import STALE_MESSAGE, CartError, LineNotFound, StaleCart
from apps.cart.forms import AddToCartForm, CouponForm, QuantityForm, VersionForm
from apps.cart.models import Cart
from apps.core import ratelimit
from apps.core.redirects import safe_next_url


def _cart_url() -> str:
    return reverse("cart:detail")


def _first_error(form: AddToCartForm | VersionForm) -> str:
    for field, errors in form.errors.items():
        if errors:
            return str(errors[0]) if field != "version" else STALE_MESSAGE
    return "Something was wrong with that request."


def _email(request: HttpRequest) -> str:
    user = request.user
    return str(getattr(user, "email", "") or "") if user.is_authenticated else ""


@never_cache
@ensure_csrf_cookie
@require_safe
def detail(request: HttpRequest) -> HttpResponse:
    """The cart page. It always sets the CSRF cookie (even for an empty cart, which has no
    form) so the page's script can post with the X-CSRFToken header. A guest cart whose
    merge failed at sign-in is merged now."""
    signin.retry_pending_merge(request)
    cart = selectors.active_cart(user=request.user, session=request.session)
    if cart is None:
        return render(request, "cart/empty.html")
    view = selectors.priced_cart(cart)
    if view.is_empty and not view.coupons:
        return render(request, "cart/empty.html")
    return render(request, "cart/detail.html", {"view": view, "coupon_form": CouponForm()})


@require_POST
def add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    back = safe_next_url(request, str(request.POST.get("next", "")), fallback=_cart_url())
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return HttpResponseRedirect(back)
    try:
        cart = services.get_or_create_cart(user=request.user, session=request.session)
        line = services.add_line(
            cart, form.cleaned_data["variant_id"], form.cleaned_data["quantity"]
        )
    except CartError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    qty = form.cleaned_data["quantity"]
    name = line.variant.product.name
    messages.success(request, f"Added {qty} x {name} to your cart.")
    return HttpResponseRedirect(back)


def _cart_write(
    request: HttpRequest,
    form: VersionForm,
    action: Callable[[Cart, int], str],
) -> HttpResponse:
    """Validate the form, find the shopper's cart, run the action, report the outcome."""
    cart = selectors.active_cart(user=request.user, session=request.session)
    if cart is None:
        messages.error(request, "Your cart is empty.")
        return redirect("cart:detail")
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("cart:detail")
    try:
        done = action(cart, form.cleaned_data["version"])
    except StaleCart:
        messages.warning(request, STALE_MESSAGE)
    except CartError as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
    return redirect("cart:detail")


@contextmanager
def _line_or_404() -> Iterator[None]:
    """A line id that is not in the shopper's cart (someone else's, or made up) is a 404,
    as in the API; it never reveals or touches another cart."""
    try:
        yield
    except LineNotFound as exc:
        raise Http404(exc.message) from exc


@require_POST
def update_line(request: HttpRequest, line_id: int) -> HttpResponse:
    form = QuantityForm(request.POST)

    def action(cart: Cart, version: int) -> str:
        with _line_or_404():
            line = services.set_quantity(
                cart, line_id, form.cleaned_data["quantity"], expected_version=version
            )
        return "Quantity updated." if line else "Item removed from your cart."

    return _cart_write(request, form, action)


@require_POST
def remove_line(request: HttpRequest, line_id: int) -> HttpResponse:
    form = VersionForm(request.POST)

    def action(cart: Cart, version: int) -> str:
        with _line_or_404():
            services.remove_line(cart, line_id, expected_version=version)
        return "Item removed from your cart."

    return _cart_write(request, form, action)


@require_POST
def clear(request: HttpRequest) -> HttpResponse:
    form = VersionForm(request.POST)

    def action(cart: Cart, version: int) -> str:
        services.clear_cart(cart, expected_version=version)
        return "Your cart is now empty."

    return _cart_write(request, form, action)


@require_POST
def apply_coupon(request: HttpRequest) -> HttpResponse:
    form = CouponForm(request.POST)

    def action(cart: Cart, version: int) -> str:
        # Same budget as the API: guessing codes is throttled on every route.
        if not ratelimit.coupon_attempt(request, cart.pk).allowed:
            raise CartError("Too many code attempts. Please wait a minute and try again.")
        row = services.apply_coupon(
            cart,
            form.cleaned_data["code"],
            user=request.user,
            email=_email(request),
            expected_version=version,
        )
        return f"Code {row.coupon.code} applied."

    return _cart_write(request, form, action)


@require_POST
def remove_coupon(request: HttpRequest, coupon_id: int) -> HttpResponse:
    form = VersionForm(request.POST)

    def action(cart: Cart, version: int) -> str:
        services.remove_coupon(cart, coupon_id, expected_version=version)
        return "Code removed."

    return _cart_write(request, form, action)


@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    """Proceed to checkout: stock and prices are rechecked; problems keep you here."""
    cart = selectors.active_cart(user=request.user, session=request.session)
    if cart is None:
        return redirect("cart:detail")
    view = selectors.priced_cart(cart)
    if view.checkout_blocked:
        for issue in view.issues or ["Your cart is empty."]:
            messages.error(request, issue)
        return redirect("cart:detail")
    try:
        return redirect(reverse("checkout:start"))
    except NoReverseMatch:
        messages.info(request, "Checkout is not open yet.")
        return redirect("cart:detail")
