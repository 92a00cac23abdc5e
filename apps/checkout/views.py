"""Checkout step pages. Each is thin: open the shopper's checkout session (`_open`: expiry,
a changed cart, may this step be shown yet), validate the step's form, record the event
through checkout.services, redirect to the step the machine moved to (POST/redirect/GET).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.cart.selectors import active_cart, priced_cart
from apps.checkout import selectors, services
from apps.checkout.address_forms import AddressForm
from apps.checkout.addresses import AddressData, check_address, country_name
from apps.checkout.forms import (
    GuestInfoForm,
    PaymentMethodForm,
    SameAsShippingForm,
    SavedAddressForm,
    ShippingMethodForm,
)
from apps.checkout.machine import GUARD_MESSAGES, Event, Guard, Refusal, State, can_visit
from apps.checkout.models import Address, CheckoutSession

STEP_URLS: dict[State, str] = {
    State.CART_REVIEW: "checkout:start",
    State.USER_IDENTIFICATION: "checkout:identify",
    State.GUEST_INFO: "checkout:guest",
    State.SHIPPING_ADDRESS: "checkout:shipping_address",
    State.BILLING_ADDRESS: "checkout:billing_address",
    State.SHIPPING_METHOD: "checkout:shipping_method",
    State.PAYMENT_METHOD: "checkout:payment",
    State.ORDER_REVIEW: "checkout:review",
}

# Decision 6: the machine's states grouped into the steps the progress indicator names.
PROGRESS: tuple[tuple[str, tuple[State, ...]], ...] = (
    ("Cart", (State.CART_REVIEW,)),
    ("Details", (State.USER_IDENTIFICATION, State.GUEST_INFO)),
    ("Shipping", (State.SHIPPING_ADDRESS, State.BILLING_ADDRESS, State.SHIPPING_METHOD)),
    ("Payment", (State.PAYMENT_METHOD,)),
    ("Review", (State.ORDER_REVIEW,)),
)

# Shown when a step is visited before the one the session is at is done.
NOT_YET: dict[State, str] = {
    State.CART_REVIEW: "Review your cart and proceed to checkout first.",
    State.USER_IDENTIFICATION: "Choose how you would like to check out first.",
    State.GUEST_INFO: GUARD_MESSAGES[Guard.GUEST_INFO_VALID],
    State.SHIPPING_ADDRESS: GUARD_MESSAGES[Guard.SHIPPING_ADDRESS_VALID],
    State.BILLING_ADDRESS: GUARD_MESSAGES[Guard.BILLING_ADDRESS_VALID],
    State.SHIPPING_METHOD: "Choose a shipping method first.",
    State.PAYMENT_METHOD: GUARD_MESSAGES[Guard.PAYMENT_METHOD_CHOSEN],
}

CARD_BRANDS = "Visa, Mastercard, American Express, Discover, Diners Club, JCB and UnionPay"
NO_CHECKOUT = "Start checkout from your cart."
TOO_MANY_ATTEMPTS = (
    "Too many checkout steps in a short time. Please wait a few minutes and try again."
)


def step_url(state: State | str) -> str:
    """The page of a state; payment states show the review until payments arrive."""
    return reverse(STEP_URLS.get(State(state), "checkout:review"))


@dataclass(frozen=True, slots=True)
class Opened:
    session: CheckoutSession
    pricing: services.Pricing


def _open(request: HttpRequest, step: State) -> Opened | HttpResponse:
    """The shopper's open checkout session, repriced, if `step` may be shown; else the
    redirect that explains why not (none: the cart review starts one; expired: the cart).
    Every step submitted counts against CHECKOUT_RATE, the budget the API shares."""
    if request.method == "POST" and not services.checkout_attempt(request).allowed:
        messages.warning(request, TOO_MANY_ATTEMPTS)
        return redirect(request.path)
    cart = active_cart(user=request.user, session=request.session)
    if cart is None:
        messages.info(request, "Your cart is empty.")
        return redirect("cart:detail")
    try:
        session = services.load(cart, user=request.user, django_session=request.session)
    except services.CheckoutExpired:
        messages.warning(request, services.EXPIRED_MESSAGE)
        return redirect("cart:detail")
    except CheckoutSession.DoesNotExist:
        if step is not State.CART_REVIEW:
            messages.info(request, NO_CHECKOUT)
            return redirect("checkout:start")
        session = services.start(cart, user=request.user, django_session=request.session)
    session.cart = cart
    priced = priced_cart(cart)
    if services.sync_cart(session, priced):
        messages.warning(request, services.CART_CHANGED_MESSAGE)
        current = State(session.state)
        if current is State.ORDER_REVIEW and step is not State.ORDER_REVIEW:
            return redirect("checkout:review")
    services.touch(session)
    current = State(session.state)
    if (
        current is State.USER_IDENTIFICATION
        and request.user.is_authenticated
        and step not in (State.CART_REVIEW, State.USER_IDENTIFICATION)
    ):
        # Just signed in on the way back to a later step: identification passes at once.
        services.select_registered(session, request.user)
        current = State(session.state)
    if not can_visit(step, current):
        messages.info(request, NOT_YET.get(current, NO_CHECKOUT))
        return HttpResponseRedirect(step_url(current))
    return Opened(session, services.pricing_for(session, priced=priced))


def _progress(step: State, current: State) -> list[dict[str, object]]:
    """The visible steps: name, the page to go back to (when reached), done, current."""
    items = []
    for name, states in PROGRESS:
        first = states[0]
        reached = any(can_visit(s, current) for s in states)
        items.append(
            {
                "name": name,
                "url": step_url(first) if reached and step not in states else "",
                "current": step in states,
                "done": step not in states and reached and can_visit(states[-1], current),
            }
        )
    return items


def _errors(*forms_: forms.Form | None) -> list[dict[str, str]]:
    """Every error of the forms for the summary at the top: message and the field's id."""
    found = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            target = form[name].auto_id if name in form.fields else ""
            for error in errors:
                found.append({"message": str(error), "target": str(target or "")})
    return found


def _render(
    request: HttpRequest,
    template: str,
    step: State,
    opened: Opened,
    context: Mapping[str, object] | None = None,
    *,
    error_forms: tuple[forms.Form | None, ...] = (),
    status: int = 200,
) -> HttpResponse:
    session = opened.session
    data = {
        "checkout": session,
        "pricing": opened.pricing,
        "totals": opened.pricing.totals,
        "priced": opened.pricing.priced,
        "currency": opened.pricing.totals.currency,
        "progress": _progress(step, State(session.state)),
        "error_summary": _errors(*error_forms),
        **(context or {}),
    }
    return render(request, template, data, status=status)


def _after(request: HttpRequest, outcome: State | Refusal) -> HttpResponse:
    """Redirect to the state the machine moved to, or back to the refused step."""
    if isinstance(outcome, Refusal):
        messages.error(request, outcome.message)
        return HttpResponseRedirect(step_url(outcome.state))
    return HttpResponseRedirect(step_url(outcome))


def _submit(
    request: HttpRequest, opened: Opened, step: State, event: Event, data: Mapping[str, Any]
) -> HttpResponse:
    """Record the step (reopened first when submitted again from a later step: an edit
    link, the back button) and go where the machine says."""
    return _after(
        request, services.submit(opened.session, step, event, data, pricing=opened.pricing)
    )


# --- the pages -------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def cart_review(request: HttpRequest) -> HttpResponse:
    """/checkout/: the cart as checkout will charge it; proceed, or fix what blocks it."""
    opened = _open(request, State.CART_REVIEW)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    if request.method == "POST":
        if opened.pricing.priced.checkout_blocked:
            messages.error(request, GUARD_MESSAGES[Guard.CART_HAS_VALID_ITEMS])
            return redirect("checkout:start")
        outcome = services.record(session, Event.PROCEED_TO_CHECKOUT, pricing=opened.pricing)
        if outcome is State.USER_IDENTIFICATION and request.user.is_authenticated:
            return _select_registered(request, session)
        return _after(request, outcome)
    return _render(request, "checkout/cart_review.html", State.CART_REVIEW, opened)


def _select_registered(request: HttpRequest, session: CheckoutSession) -> HttpResponse:
    """A signed-in shopper skips identification: the contact comes from the account."""
    user = request.user
    assert user.is_authenticated
    return _after(request, services.select_registered(session, user))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def identify(request: HttpRequest) -> HttpResponse:
    """/checkout/identify/: continue as a guest, sign in or create an account."""
    opened = _open(request, State.USER_IDENTIFICATION)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    current = State(session.state)
    if request.user.is_authenticated:
        if current is State.USER_IDENTIFICATION:
            return _select_registered(request, session)
        return HttpResponseRedirect(step_url(current))
    if request.method == "POST":
        if current is State.USER_IDENTIFICATION:
            return _after(request, services.record(session, Event.SELECT_GUEST))
        # The guest step reopens only when its form is submitted (services.submit).
        return redirect("checkout:guest")
    back = reverse("checkout:identify")
    return _render(
        request,
        "checkout/identify.html",
        State.USER_IDENTIFICATION,
        opened,
        {"next": back},
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def guest(request: HttpRequest) -> HttpResponse:
    """/checkout/guest/: a guest's email and name (phone optional, no marketing by default)."""
    opened = _open(request, State.GUEST_INFO)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    if session.user_id is not None:
        return HttpResponseRedirect(step_url(session.state))
    form = GuestInfoForm(
        request.POST or None,
        initial={
            "email": session.email,
            "first_name": session.first_name,
            "last_name": session.last_name,
            "phone": session.phone,
            "marketing_consent": session.marketing_consent,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _submit(request, opened, State.GUEST_INFO, Event.SUBMIT_GUEST_INFO, data)
    return _render(
        request,
        "checkout/guest.html",
        State.GUEST_INFO,
        opened,
        {"form": form},
        error_forms=(form,),
        status=400 if form.is_bound else 200,
    )


def _address_choices(saved: list[Address]) -> list[tuple[str, str]]:
    return [(str(a.pk), ", ".join(selectors.address_data(a).lines())) for a in saved]


def _initial(address: AddressData | None, session: CheckoutSession) -> dict[str, str]:
    if address is not None:
        return AddressForm.initial_from(address)
    return {"first_name": session.first_name, "last_name": session.last_name, "country": "US"}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def shipping_address(request: HttpRequest) -> HttpResponse:
    """/checkout/shipping-address/: a saved address or a new one; billing the same by
    default. An address we do not ship to keeps the shopper here to change it."""
    opened = _open(request, State.SHIPPING_ADDRESS)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    saved = selectors.saved_addresses(session.user_id) if session.user_id else []
    current = services.shipping_address_of(session)
    chosen = _saved_match(saved, current)
    picker = None
    if saved:
        # The address in use, else "new" for one typed in, else the default address.
        preselect = str(chosen.pk) if chosen else ("new" if current else str(saved[0].pk))
        picker = SavedAddressForm(
            request.POST if request.method == "POST" else None,
            choices=_address_choices(saved),
            initial={"saved_address": preselect},
        )
    same = SameAsShippingForm(
        request.POST if request.method == "POST" else None,
        initial={"billing_same_as_shipping": session.billing_same_as_shipping},
    )
    address_form = AddressForm(
        request.POST if request.method == "POST" else None,
        prefix="shipping",
        initial=_initial(current if chosen is None else None, session),
    )
    use_saved = False
    no_zone = ""
    if request.method == "POST":
        address: AddressData | None = None
        picked = picker.cleaned_data["saved_address"] if picker and picker.is_valid() else "new"
        if picker is not None and picked != "new":
            use_saved = True
            found = next((a for a in saved if str(a.pk) == picked), None)
            if found is not None:
                check = check_address(selectors.address_data(found))
                address = check.normalized
                if address is None:
                    picker.add_error(
                        "saved_address",
                        "That saved address is incomplete: edit it or enter a new one.",
                    )
        elif address_form.is_valid():
            address = address_form.address
        if address is not None and same.is_valid():
            if services.zone_for_address(address) is None:
                no_zone = (
                    f"We do not ship to {country_name(address.country)} yet. "
                    "Choose another address."
                )
            else:
                billing_same = bool(same.cleaned_data["billing_same_as_shipping"])
                event = Event.USE_SHIPPING_ADDRESS if billing_same else Event.SUBMIT_SHIPPING
                data = {"shipping_address": address, "billing_same_as_shipping": billing_same}
                return _submit(request, opened, State.SHIPPING_ADDRESS, event, data)
    if use_saved:  # the new-address fields were not used: show them without errors
        address_form = AddressForm(prefix="shipping", initial=_initial(None, session))
    errors = _errors(picker, address_form)
    if no_zone:
        errors.insert(0, {"message": no_zone, "target": ""})
    return _render(
        request,
        "checkout/shipping_address.html",
        State.SHIPPING_ADDRESS,
        opened,
        {
            "picker": picker,
            "address_form": address_form,
            "same_form": same,
            "no_zone": no_zone,
            "saved": saved,
            "error_summary": errors,
        },
        status=400 if request.method == "POST" else 200,
    )


def _saved_match(saved: list[Address], current: AddressData | None) -> Address | None:
    if current is None:
        return None
    for address in saved:
        data = selectors.address_data(address)
        check = check_address(data)
        if data == current or check.normalized == current:
            return address
    return None


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def billing_address(request: HttpRequest) -> HttpResponse:
    """/checkout/billing-address/: a billing address other than the shipping one."""
    opened = _open(request, State.BILLING_ADDRESS)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    current = None if session.billing_same_as_shipping else services.billing_address_of(session)
    form = AddressForm(
        request.POST if request.method == "POST" else None,
        prefix="billing",
        initial=_initial(current, session),
    )
    if request.method == "POST" and form.is_valid() and form.address is not None:
        data = {"billing_address": form.address, "billing_same_as_shipping": False}
        return _submit(request, opened, State.BILLING_ADDRESS, Event.SUBMIT_BILLING, data)
    return _render(
        request,
        "checkout/billing_address.html",
        State.BILLING_ADDRESS,
        opened,
        {"address_form": form},
        error_forms=(form,),
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def shipping_method(request: HttpRequest) -> HttpResponse:
    """/checkout/shipping-method/: the methods offered for the address, with cost and
    delivery dates."""
    opened = _open(request, State.SHIPPING_METHOD)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    quotes = opened.pricing.quotes
    chosen = opened.pricing.quote
    form = ShippingMethodForm(
        request.POST if request.method == "POST" else None,
        quotes=quotes,
        initial={"shipping_method": str(chosen.method_id if chosen else quotes[0].method_id)}
        if quotes
        else None,
    )
    if request.method == "POST" and form.is_valid():
        data = {"shipping_method_id": form.cleaned_data["shipping_method"]}
        return _submit(request, opened, State.SHIPPING_METHOD, Event.SELECT_SHIPPING, data)
    return _render(
        request,
        "checkout/shipping_method.html",
        State.SHIPPING_METHOD,
        opened,
        {"form": form, "quotes": quotes, "address": services.shipping_address_of(session)},
        error_forms=(form,),
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def payment(request: HttpRequest) -> HttpResponse:
    """/checkout/payment/: how to pay (a card through Stripe Checkout for now)."""
    opened = _open(request, State.PAYMENT_METHOD)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    form = PaymentMethodForm(
        request.POST if request.method == "POST" else None,
        initial={"payment_method": session.payment_method or CheckoutSession.PaymentMethod.CARD},
    )
    if request.method == "POST" and form.is_valid():
        data = {"payment_method": form.cleaned_data["payment_method"]}
        return _submit(request, opened, State.PAYMENT_METHOD, Event.SELECT_PAYMENT, data)
    return _render(
        request,
        "checkout/payment.html",
        State.PAYMENT_METHOD,
        opened,
        {"form": form, "card_brands": CARD_BRANDS},
        error_forms=(form,),
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
def review(request: HttpRequest) -> HttpResponse:
    """/checkout/review/: everything the shopper will pay for, with edit links."""
    opened = _open(request, State.ORDER_REVIEW)
    if isinstance(opened, HttpResponse):
        return opened
    session = opened.session
    return _render(
        request,
        "checkout/review.html",
        State.ORDER_REVIEW,
        opened,
        {
            "shipping": services.shipping_address_of(session),
            "billing": services.billing_address_of(session),
            "quote": opened.pricing.quote,
            "payment_label": session.get_payment_method_display(),
        },
    )


@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """Leave checkout: the checkout session closes, the cart stays."""
    cart = active_cart(user=request.user, session=request.session)
    try:
        session = services.load(cart, user=request.user, django_session=request.session)
    except (services.CheckoutExpired, CheckoutSession.DoesNotExist):
        return redirect("cart:detail")
    services.cancel(session, request.session)
    messages.info(request, "You left checkout; your cart is kept.")
    return redirect("cart:detail")
