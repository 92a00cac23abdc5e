"""The checkout session's lifecycle: start or resume, load, expire, record the steps.

The machine (checkout.machine) decides; these functions gather the facts it needs
(`context_for`), price the session (`pricing_for`, `current_totals`), write what a step
submitted with its audit row (`submit`, which reopens a passed step, over `record`), keep
the session on the cart's current version (`sync_cart`) and follow the customer's cart
at sign-in (`follow_cart_on_sign_in`). The views and the API (checkout.api) call the same
functions (`start`/`begin`, `load`/`load_public`, `submit`). Logs and audit rows carry
ids and step names only, never contact or address data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.cart.calculations import PricedCart
from apps.cart.models import Cart
from apps.cart.selectors import priced_cart
from apps.checkout import machine
from apps.checkout.addresses import AddressData, check_address
from apps.checkout.machine import Context, Event, Refusal, State
from apps.checkout.models import CheckoutEvent, CheckoutSession
from apps.checkout.pricing import CheckoutTotals, checkout_totals, taxable_lines
from apps.checkout.selectors import shipping_zones, tax_rates
from apps.checkout.shipping import (
    ShippingQuote,
    ZoneSnapshot,
    cart_weight,
    find_quote,
    quotes_for,
    zone_for,
)
from apps.checkout.tax import RateSnapshot, TaxResult, compute_tax, rates_for
from apps.core import ratelimit
from apps.core.money import ZERO, quantize

logger = logging.getLogger(__name__)

# The Django session key holding the open checkout session's public id.
CHECKOUT_SESSION_KEY = "checkout_id"

User = AbstractBaseUser | AnonymousUser

# Events whose form data `record` writes onto the session, and the edit event that brings
# a session back to a step it has passed (the browser's back button, the review's links).
EDIT_EVENTS: dict[State, Event] = {
    State.GUEST_INFO: Event.EDIT_GUEST_INFO,
    State.SHIPPING_ADDRESS: Event.EDIT_SHIPPING,
    State.BILLING_ADDRESS: Event.EDIT_BILLING,
    State.SHIPPING_METHOD: Event.EDIT_SHIPPING_METHOD,
    State.PAYMENT_METHOD: Event.EDIT_PAYMENT,
}


CART_CHANGED_MESSAGE = "Your cart changed; check the new total."
EXPIRED_MESSAGE = "Your checkout timed out, so we saved your cart. Check it and start again."


class CheckoutExpired(Exception):
    """The checkout session sat idle past CHECKOUT_SESSION_IDLE_MINUTES; it is closed."""


@dataclass(frozen=True, slots=True)
class Pricing:
    """Everything a step needs to show prices, read once per request in a fixed number of
    queries: the priced cart, the zone for the shipping address, its quotes, the totals."""

    priced: PricedCart
    zone: ZoneSnapshot | None
    quotes: tuple[ShippingQuote, ...]
    quote: ShippingQuote | None  # the chosen method's, when it is offered
    rates: tuple[RateSnapshot, ...]
    totals: CheckoutTotals


def _expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(minutes=settings.CHECKOUT_SESSION_IDLE_MINUTES)


def _audit(
    session: CheckoutSession,
    kind: str,
    *,
    event: str = "",
    from_state: str = "",
    to_state: str = "",
    detail: str = "",
) -> None:
    CheckoutEvent.objects.create(
        session=session,
        kind=kind,
        event=event,
        from_state=from_state,
        to_state=to_state,
        detail=detail[:200],
    )
    logger.info(
        "checkout %s",
        kind,
        extra={
            "checkout_session_id": session.pk,
            "cart_id": session.cart_id,
            "event": event,
            "from_state": from_state,
            "to_state": to_state,
        },
    )


def _close(session: CheckoutSession, kind: str, detail: str = "") -> None:
    session.is_open = False
    session.save(update_fields=["is_open", "updated_at"])
    _audit(session, kind, from_state=session.state, detail=detail)


# --- start, load, expire ---------------------------------------------------------------


def start(cart: Cart, *, user: User | None, django_session: SessionBase) -> CheckoutSession:
    """Start or resume the open checkout session of `cart` (one per cart: a concurrent
    start that loses the insert race returns the winner) and remember it in the session.
    An expired open session is closed first and a fresh one started."""
    now = timezone.now()
    session = CheckoutSession.objects.filter(cart=cart, is_open=True).first()
    if session is not None and session.expires_at <= now:
        _close(session, CheckoutEvent.Kind.EXPIRED, "idle")
        session = None
    if session is None:
        signed_in = user is not None and user.is_authenticated
        try:
            with transaction.atomic():
                session = CheckoutSession.objects.create(
                    cart=cart,
                    cart_version=cart.version,
                    user_id=user.pk if signed_in and user is not None else None,
                    expires_at=_expiry(now),
                )
        except IntegrityError:
            session = CheckoutSession.objects.get(cart=cart, is_open=True)
        else:
            _audit(session, CheckoutEvent.Kind.STARTED, to_state=session.state)
    django_session[CHECKOUT_SESSION_KEY] = session.public_id
    return session


def load(cart: Cart | None, *, user: User | None, django_session: SessionBase) -> CheckoutSession:
    """The shopper's open checkout session: the one named in their Django session, on
    their active cart (`cart`, from cart.selectors.active_cart). Raises
    CheckoutSession.DoesNotExist when there is none (or it is not theirs) and
    CheckoutExpired when it sat idle too long (it is closed then)."""
    public_id = django_session.get(CHECKOUT_SESSION_KEY)
    if not isinstance(public_id, str) or cart is None:
        raise CheckoutSession.DoesNotExist
    session = (
        CheckoutSession.objects.select_related("shipping_method")
        .filter(public_id=public_id, is_open=True, cart=cart)
        .first()
    )
    signed_in = user is not None and user.is_authenticated
    if session is None or (
        session.user_id is not None
        and (not signed_in or user is None or session.user_id != user.pk)
    ):
        django_session.pop(CHECKOUT_SESSION_KEY, None)
        raise CheckoutSession.DoesNotExist
    if session.expires_at <= timezone.now():
        _close(session, CheckoutEvent.Kind.EXPIRED, "idle")
        django_session.pop(CHECKOUT_SESSION_KEY, None)
        raise CheckoutExpired
    return session


def touch(session: CheckoutSession) -> None:
    """Push the idle expiry back: the shopper is still here."""
    session.expires_at = _expiry()
    CheckoutSession.objects.filter(pk=session.pk).update(expires_at=session.expires_at)


def cancel(session: CheckoutSession, django_session: SessionBase | None = None) -> None:
    """Close the checkout session; the cart stays as it is."""
    _close(session, CheckoutEvent.Kind.CANCELLED)
    if django_session is not None:
        django_session.pop(CHECKOUT_SESSION_KEY, None)


# --- pricing and facts -----------------------------------------------------------------


def shipping_address_of(session: CheckoutSession) -> AddressData | None:
    raw = session.shipping_address
    return AddressData.from_dict(raw) if isinstance(raw, Mapping) else None


def billing_address_of(session: CheckoutSession) -> AddressData | None:
    if session.billing_same_as_shipping:
        return shipping_address_of(session)
    raw = session.billing_address
    return AddressData.from_dict(raw) if isinstance(raw, Mapping) else None


def zone_for_address(
    address: AddressData | None, zones: tuple[ZoneSnapshot, ...] | None = None
) -> ZoneSnapshot | None:
    if address is None:
        return None
    return zone_for(
        address.country,
        address.state,
        address.zip_code,
        zones if zones is not None else shipping_zones(),
    )


def quotes_for_session(
    priced: PricedCart, zone: ZoneSnapshot | None, *, now: datetime | None = None
) -> tuple[ShippingQuote, ...]:
    """The methods offered for the zone, priced for this cart (the weight and discounted
    subtotal of the lines that are shipped, a free-shipping coupon), with delivery windows
    from now. A cart with nothing to ship (gift cards) pays no shipping."""
    if zone is None:
        return ()
    shipped = [row for row in priced.lines if row.line.requires_shipping]
    return quotes_for(
        zone,
        weight_kg=cart_weight(row.line for row in shipped),
        discounted_subtotal=sum((row.line_total - row.discount for row in shipped), ZERO),
        free_shipping=priced.free_shipping or not shipped,
        now_local=timezone.localtime(now or timezone.now()),
        cutoff_hour=settings.SHIPPING_SAME_DAY_CUTOFF_HOUR,
        currency=priced.currency,
    )


def pricing_for(
    session: CheckoutSession, *, priced: PricedCart | None = None, now: datetime | None = None
) -> Pricing:
    """Price the session's cart with its shipping address and method: cart snapshot and
    pricing, zones, tax rates for the address's country (a fixed number of queries)."""
    now = now or timezone.now()
    if priced is None:
        if session.cart is None:
            raise CheckoutSession.DoesNotExist
        priced = priced_cart(session.cart, now=now)
    address = shipping_address_of(session)
    zone = zone_for_address(address)
    quotes = quotes_for_session(priced, zone, now=now)
    quote = find_quote(quotes, session.shipping_method_id)
    rates: tuple[RateSnapshot, ...] = ()
    if address is not None:
        rates = rates_for(
            address.country, address.state, address.zip_code, tax_rates(address.country)
        )
    taxable = {row.line.line_id: row.line.taxable for row in priced.lines}
    totals = checkout_totals(
        priced, shipping=quote, rates=rates, taxable=taxable, currency=priced.currency
    )
    return Pricing(priced=priced, zone=zone, quotes=quotes, quote=quote, rates=rates, totals=totals)


def current_totals(session: CheckoutSession) -> CheckoutTotals:
    """What the shopper pays now: subtotal, discounts, shipping, tax and total."""
    return pricing_for(session).totals


def _address_valid(address: AddressData | None) -> bool:
    return address is not None and check_address(address).valid


def guest_info_valid(session: CheckoutSession) -> bool:
    return bool(session.email and session.first_name and session.last_name)


def context_for(session: CheckoutSession, *, pricing: Pricing | None = None) -> Context:
    """The facts the machine's guards look at, from the session as it is now."""
    pricing = pricing or pricing_for(session)
    shipping = shipping_address_of(session)
    shipping_valid = _address_valid(shipping)
    if session.billing_same_as_shipping:
        billing_valid = shipping_valid
    else:
        billing_valid = _address_valid(billing_address_of(session))
    offered = {q.method_id for q in pricing.quotes}
    return Context(
        cart_has_valid_items=not pricing.priced.checkout_blocked,
        user_authenticated=session.user_id is not None,
        guest_info_valid=guest_info_valid(session),
        shipping_address_valid=shipping_valid,
        billing_address_valid=billing_valid,
        shipping_method_available=session.shipping_method_id is not None
        and session.shipping_method_id in offered,
        payment_method_chosen=bool(session.payment_method),
        billing_same_as_shipping=session.billing_same_as_shipping,
    )


# --- recording steps -------------------------------------------------------------------

# The session fields each step's data may set (anything else in `data` is ignored).
_FIELDS: dict[Event, tuple[str, ...]] = {
    Event.SUBMIT_GUEST_INFO: ("email", "first_name", "last_name", "phone", "marketing_consent"),
    Event.SUBMIT_SHIPPING: ("shipping_address", "billing_same_as_shipping"),
    Event.USE_SHIPPING_ADDRESS: ("shipping_address", "billing_same_as_shipping"),
    Event.SUBMIT_BILLING: ("billing_address", "billing_same_as_shipping"),
    Event.SELECT_SHIPPING: ("shipping_method_id",),
    Event.SELECT_PAYMENT: ("payment_method",),
}


def _write(session: CheckoutSession, event: Event, data: Mapping[str, Any]) -> list[str]:
    """Set the step's data on the session (not saved yet); the fields it changed."""
    changed: list[str] = []
    for name in _FIELDS.get(event, ()):
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, AddressData):
            value = value.as_dict()
        setattr(session, name, value)
        changed.append("shipping_method" if name == "shipping_method_id" else name)
    if event is Event.SELECT_GUEST:
        session.user_type = CheckoutSession.UserType.GUEST
        changed.append("user_type")
    return changed


def register_user(session: CheckoutSession, user: AbstractBaseUser) -> None:
    """A signed-in shopper: the session is theirs and the contact comes from the account
    (names the shopper already typed are kept when the account has none)."""
    session.user_id = user.pk
    session.user_type = CheckoutSession.UserType.REGISTERED
    session.email = str(getattr(user, "email", "") or "") or session.email
    session.first_name = str(getattr(user, "first_name", "") or "") or session.first_name
    session.last_name = str(getattr(user, "last_name", "") or "") or session.last_name


def record(
    session: CheckoutSession,
    event: Event,
    data: Mapping[str, Any] | None = None,
    *,
    pricing: Pricing | None = None,
    fast_forward: bool = True,
) -> State | Refusal:
    """Apply `event` with the step's `data` (form data already validated) and save the
    data, the new state, steps_completed and an audit row; or record the refusal and
    save nothing else. After a step, later steps whose choices still hold are skipped
    (machine.fast_forward), so an edit from review returns to review."""
    data = data or {}
    from_state = State(session.state)
    if from_state is not State.CART_REVIEW and event is Event.PROCEED_TO_CHECKOUT:
        return from_state  # proceeding again (back button) keeps the progress
    changed = _write(session, event, data)
    # Pricing depends on the cart and the shipping address (zone, quotes, tax), not on
    # the contact, billing or chosen method: only a new address needs a fresh one.
    context = context_for(session, pricing=None if "shipping_address" in changed else pricing)
    moved = machine.apply(from_state, event, context)
    if isinstance(moved, Refusal):
        session.refresh_from_db()
        session.last_error = moved.message[:300]
        session.save(update_fields=["last_error", "updated_at"])
        _audit(
            session,
            CheckoutEvent.Kind.REFUSED,
            event=event.value,
            from_state=from_state.value,
            detail=moved.guard.value if moved.guard else "not_allowed",
        )
        return moved
    target = machine.fast_forward(moved, context) if fast_forward else moved
    steps = dict(session.steps_completed or {})
    stamp = timezone.now().isoformat()
    steps[from_state.value] = stamp
    if moved in machine.STEPS and target in machine.STEPS:
        # The steps fast_forward skipped count as completed again.
        for skipped in machine.STEPS[machine.STEPS.index(moved) : machine.STEPS.index(target)]:
            steps[skipped.value] = stamp
    session.steps_completed = steps
    session.state = target.value
    session.last_error = ""
    session.expires_at = _expiry()
    session.save(
        update_fields=[
            *changed,
            "state",
            "steps_completed",
            "last_error",
            "expires_at",
            "updated_at",
        ]
    )
    _audit(
        session,
        CheckoutEvent.Kind.STEP_COMPLETED,
        event=event.value,
        from_state=from_state.value,
        to_state=target.value,
    )
    return target


def sync_cart(session: CheckoutSession, priced: PricedCart) -> bool:
    """The cart changed since the session was priced (another tab, the merge): record the
    new version. True when it changed; a session that had reached review goes back to it
    (its totals are new), and a cart that can no longer check out goes back to the cart."""
    if priced.version == session.cart_version:
        return False
    from_state = session.state
    session.cart_version = priced.version
    fields = ["cart_version", "updated_at"]
    if priced.checkout_blocked and session.state != State.CART_REVIEW.value:
        session.state = State.CART_REVIEW.value
        fields.append("state")
    session.save(update_fields=fields)
    _audit(
        session,
        CheckoutEvent.Kind.CART_CHANGED,
        from_state=from_state,
        to_state=session.state,
        detail=f"version {priced.version}",
    )
    return True


# --- sign-in ---------------------------------------------------------------------------


def follow_cart_on_sign_in(
    request: HttpRequest, user: AbstractBaseUser, previous_session: Mapping[str, object]
) -> None:
    """Sign-in handler (registered after the cart's merge): the open checkout session moves
    to the customer's active cart, keeping contact and addresses. It goes back to the
    identification step, where SELECT_REGISTERED passes and fast_forward returns the
    shopper as far as their choices still hold (review again when the merge changed the
    lines). Another open session on that cart is closed first."""
    previous_user = previous_session.get(SESSION_KEY)
    public_id = previous_session.get(
        CHECKOUT_SESSION_KEY, request.session.get(CHECKOUT_SESSION_KEY)
    )
    if previous_user is not None and str(previous_user) != str(user.pk):
        request.session.pop(CHECKOUT_SESSION_KEY, None)
        return
    if not isinstance(public_id, str):
        return
    with transaction.atomic():
        session = (
            CheckoutSession.objects.select_for_update()
            .filter(public_id=public_id, is_open=True)
            .first()
        )
        if session is None or (session.user_id is not None and session.user_id != user.pk):
            request.session.pop(CHECKOUT_SESSION_KEY, None)
            return
        cart = Cart.objects.filter(user_id=user.pk, status=Cart.Status.ACTIVE).first()
        if cart is None:
            _close(session, CheckoutEvent.Kind.CANCELLED, "no cart after sign-in")
            request.session.pop(CHECKOUT_SESSION_KEY, None)
            return
        for other in (
            CheckoutSession.objects.select_for_update()
            .filter(cart=cart, is_open=True)
            .exclude(pk=session.pk)
        ):
            _close(other, CheckoutEvent.Kind.CANCELLED, "superseded at sign-in")
        changed = session.cart_id != cart.pk or session.cart_version != cart.version
        from_state = session.state
        session.cart = cart
        session.cart_version = cart.version
        register_user(session, user)
        if machine.step_index(State(session.state)) > machine.step_index(State.USER_IDENTIFICATION):
            session.state = State.USER_IDENTIFICATION.value
        session.expires_at = _expiry()
        session.save()
        _audit(
            session,
            CheckoutEvent.Kind.CART_MERGED,
            from_state=from_state,
            to_state=session.state,
            detail=f"cart {cart.pk} version {cart.version}" + (" changed" if changed else ""),
        )
    request.session[CHECKOUT_SESSION_KEY] = session.public_id
    if changed and machine.step_index(State(from_state)) > machine.step_index(
        State.USER_IDENTIFICATION
    ):
        messages.info(request, CART_CHANGED_MESSAGE)


# --- entry points shared by the pages and the JSON API (checkout.api) ------------------
# The API submits a step from wherever the session is, as the pages' edit links and
# redirects let a shopper do; the machine still decides every move.

CHECKOUT_LIMIT = ratelimit.Limit(
    scope="checkout",
    rate_settings={"ip": "CHECKOUT_RATE", "session": "CHECKOUT_RATE"},
    defaults={"ip": "50/5min", "session": "50/5min"},
    when_redis_is_down=ratelimit.Outage.OPEN,
)


def checkout_attempt(request: HttpRequest) -> ratelimit.Decision:
    """One checkout call (CHECKOUT_RATE, 50 per 5 minutes by default), per client IP and
    per Django session, so neither a fresh session nor a spoofed header resets the budget.
    Open while Redis is down: a Redis blip must not stop shoppers from paying."""
    keys = {"ip": ratelimit.client_ip(request) or "unknown"}
    session_key = request.session.session_key
    if session_key:
        keys["session"] = session_key
    return CHECKOUT_LIMIT.hit(keys)


def load_public(
    public_id: str, cart: Cart | None, *, user: User | None, django_session: SessionBase
) -> CheckoutSession:
    """The open checkout session `public_id` when it is the shopper's: the one their Django
    session holds, on their active cart (`load`). Raises CheckoutSession.DoesNotExist for
    any other id (the API's 404: not yours looks the same as not there) and
    CheckoutExpired as `load` does."""
    if django_session.get(CHECKOUT_SESSION_KEY) != public_id:
        raise CheckoutSession.DoesNotExist
    return load(cart, user=user, django_session=django_session)


def begin(
    cart: Cart, *, user: User | None, django_session: SessionBase
) -> tuple[CheckoutSession, State | Refusal]:
    """Start or resume checkout on `cart` and proceed past the cart review, as the
    /checkout/ page's button does: a signed-in shopper is identified from the account and
    skips identification (SELECT_REGISTERED). A session already past the review keeps
    its progress; a cart that cannot check out is refused (cart_has_valid_items)."""
    session = start(cart, user=user, django_session=django_session)
    pricing = pricing_for(session)
    sync_cart(session, pricing.priced)
    outcome = record(session, Event.PROCEED_TO_CHECKOUT, pricing=pricing)
    signed_in = isinstance(user, AbstractBaseUser) and user.is_authenticated
    if outcome is State.USER_IDENTIFICATION and signed_in:
        assert isinstance(user, AbstractBaseUser)
        outcome = select_registered(session, user)
    return session, outcome


def select_registered(session: CheckoutSession, user: AbstractBaseUser) -> State | Refusal:
    """A signed-in shopper at identification: the session becomes theirs, the contact
    comes from the account, and SELECT_REGISTERED moves on (decision 7: signing in is a
    redirect to the sign-in page and back, not a state)."""
    register_user(session, user)
    session.save(update_fields=["user", "user_type", "email", "first_name", "last_name"])
    return record(session, Event.SELECT_REGISTERED)


def submit(
    session: CheckoutSession,
    step: State,
    event: Event,
    data: Mapping[str, Any],
    *,
    pricing: Pricing | None = None,
) -> State | Refusal:
    """Record `event` with a step's `data` wherever the session is: a step already passed
    is reopened first (its EDIT_* event, as an edit link or the back button), and a guest
    at identification continues as a guest for the guest-info step. The reopening is saved
    only with the step's success: a refused submit leaves the session where it was. A
    step not reached yet, or guest info on a registered shopper's session, is refused.
    `pricing`: the session priced before this submit, reused where the step leaves it
    valid (see `record`)."""
    current = State(session.state)
    if step is State.GUEST_INFO and session.user_id is not None:
        return Refusal(current, event)
    if step is State.GUEST_INFO and current is State.USER_IDENTIFICATION:
        moved = record(session, Event.SELECT_GUEST, pricing=pricing)
        if isinstance(moved, Refusal):
            return moved
        return record(session, event, data, pricing=pricing)
    reopen = EDIT_EVENTS.get(step)
    if current is step or reopen is None or not machine.can_visit(step, current):
        return record(session, event, data, pricing=pricing)
    if isinstance(machine.apply(current, reopen, Context()), Refusal):
        return record(session, event, data, pricing=pricing)
    session.state = step.value  # in memory: record saves it with the step, or reloads
    outcome = record(session, event, data, pricing=pricing)
    if not isinstance(outcome, Refusal):
        _audit(
            session,
            CheckoutEvent.Kind.EDITED,
            event=reopen.value,
            from_state=current.value,
            to_state=step.value,
        )
    return outcome


def quotes_for_address(
    cart: Cart, address: AddressData
) -> tuple[ZoneSnapshot | None, tuple[ShippingQuote, ...]]:
    """The shipping zone for `address` and its methods priced for `cart` (no checkout
    session needed: POST /api/shipping/calculate)."""
    zone = zone_for_address(address)
    return zone, quotes_for_session(priced_cart(cart), zone)


def tax_for_address(
    cart: Cart, address: AddressData, shipping_cost: Decimal
) -> tuple[PricedCart, TaxResult]:
    """The tax `cart` would pay shipped to `address`, with `shipping_cost` taxed where the
    rates say so (POST /api/tax/calculate): the same rates and rounding as the totals."""
    priced = priced_cart(cart)
    rates = rates_for(address.country, address.state, address.zip_code, tax_rates(address.country))
    lines = taxable_lines(priced, {}, priced.currency)
    cost = quantize(max(shipping_cost, Decimal("0")), priced.currency)
    return priced, compute_tax(lines, cost, rates, priced.currency)
