"""The checkout state machine: states, events, guards and one transition table.

Pure (no Django): the views and services compute a `Context` of facts about the checkout
session, then ask `apply` whether an event may move the session on. Every refusal is a
typed `Refusal` naming the guard that failed, so a view can send the shopper to the
right step with the right message.

Beyond the spec's events (see docs/checkout.md), the table has what ../shared/spec's
decisions ask for: CANCEL and EXPIRE lead back to cart_review from every unfinished state,
an edit link from any later step returns to that step (EDIT_*), RETRY_PAYMENT and
CHANGE_PAYMENT_METHOD are the same transition, and "billing same as shipping"
(USE_SHIPPING_ADDRESS) is offered on the shipping step and skips the billing step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    CART_REVIEW = "cart_review"
    USER_IDENTIFICATION = "user_identification"
    GUEST_INFO = "guest_info"
    SHIPPING_ADDRESS = "shipping_address"
    BILLING_ADDRESS = "billing_address"
    SHIPPING_METHOD = "shipping_method"
    PAYMENT_METHOD = "payment_method"
    ORDER_REVIEW = "order_review"
    PAYMENT_PROCESSING = "payment_processing"
    PAYMENT_SUCCESS = "payment_success"
    PAYMENT_FAILED = "payment_failed"
    ORDER_CONFIRMATION = "order_confirmation"


class Event(StrEnum):
    PROCEED_TO_CHECKOUT = "PROCEED_TO_CHECKOUT"
    SELECT_GUEST = "SELECT_GUEST"
    SELECT_REGISTERED = "SELECT_REGISTERED"
    SUBMIT_GUEST_INFO = "SUBMIT_GUEST_INFO"
    SUBMIT_SHIPPING = "SUBMIT_SHIPPING"
    USE_SHIPPING_ADDRESS = "USE_SHIPPING_ADDRESS"
    SUBMIT_BILLING = "SUBMIT_BILLING"
    SELECT_SHIPPING = "SELECT_SHIPPING"
    SELECT_PAYMENT = "SELECT_PAYMENT"
    CONFIRM_ORDER = "CONFIRM_ORDER"
    EDIT_GUEST_INFO = "EDIT_GUEST_INFO"
    EDIT_SHIPPING = "EDIT_SHIPPING"
    EDIT_BILLING = "EDIT_BILLING"
    EDIT_SHIPPING_METHOD = "EDIT_SHIPPING_METHOD"
    EDIT_PAYMENT = "EDIT_PAYMENT"
    PAYMENT_SUCCESS = "PAYMENT_SUCCESS"
    PAYMENT_FAILURE = "PAYMENT_FAILURE"
    RETRY_PAYMENT = "RETRY_PAYMENT"
    CHANGE_PAYMENT_METHOD = "CHANGE_PAYMENT_METHOD"
    PROCEED_TO_CONFIRMATION = "PROCEED_TO_CONFIRMATION"
    CANCEL = "CANCEL"
    EXPIRE = "EXPIRE"


class Guard(StrEnum):
    CART_HAS_VALID_ITEMS = "cart_has_valid_items"
    USER_AUTHENTICATED = "user_authenticated"
    GUEST_INFO_VALID = "guest_info_valid"
    SHIPPING_ADDRESS_VALID = "shipping_address_valid"
    BILLING_ADDRESS_VALID = "billing_address_valid"
    SHIPPING_METHOD_AVAILABLE = "shipping_method_available"
    PAYMENT_METHOD_CHOSEN = "payment_method_chosen"


GUARD_MESSAGES: dict[Guard, str] = {
    Guard.CART_HAS_VALID_ITEMS: "Your cart needs attention before you can check out.",
    Guard.USER_AUTHENTICATED: "Sign in to check out with your account.",
    Guard.GUEST_INFO_VALID: "Tell us your email address and name first.",
    Guard.SHIPPING_ADDRESS_VALID: "Enter a shipping address first.",
    Guard.BILLING_ADDRESS_VALID: "Enter a billing address first.",
    Guard.SHIPPING_METHOD_AVAILABLE: "Choose a shipping method we offer for your address.",
    Guard.PAYMENT_METHOD_CHOSEN: "Choose how you would like to pay.",
}


@dataclass(frozen=True, slots=True)
class Context:
    """What the guards look at, computed by the services from the checkout session."""

    cart_has_valid_items: bool = False
    user_authenticated: bool = False
    guest_info_valid: bool = False
    shipping_address_valid: bool = False
    billing_address_valid: bool = False
    shipping_method_available: bool = False
    payment_method_chosen: bool = False
    billing_same_as_shipping: bool = True

    def holds(self, guard: Guard) -> bool:
        return bool(getattr(self, guard.value))


@dataclass(frozen=True, slots=True)
class Transition:
    target: State
    guards: tuple[Guard, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an event did not move the session: not allowed in this state (guard is None),
    or allowed but a guard failed."""

    state: State
    event: Event
    guard: Guard | None = None

    @property
    def message(self) -> str:
        if self.guard is not None:
            return GUARD_MESSAGES[self.guard]
        return "That step is not available right now."


S = State
E = Event
G = Guard

# The steps a shopper walks, in order; payment states come after order_review.
STEPS: tuple[State, ...] = (
    S.CART_REVIEW,
    S.USER_IDENTIFICATION,
    S.GUEST_INFO,
    S.SHIPPING_ADDRESS,
    S.BILLING_ADDRESS,
    S.SHIPPING_METHOD,
    S.PAYMENT_METHOD,
    S.ORDER_REVIEW,
)
FINISHED: frozenset[State] = frozenset({S.PAYMENT_SUCCESS, S.ORDER_CONFIRMATION})
# States a payment is (or was) in flight from; the shop's steps may not be edited there.
PAYMENT_STATES: frozenset[State] = frozenset(
    {S.PAYMENT_PROCESSING, S.PAYMENT_SUCCESS, S.PAYMENT_FAILED, S.ORDER_CONFIRMATION}
)


def _after(step: State) -> tuple[State, ...]:
    """The walkable steps after `step`, up to and including order_review."""
    return STEPS[STEPS.index(step) + 1 :]


def _build_table() -> dict[tuple[State, Event], Transition]:
    table: dict[tuple[State, Event], Transition] = {
        (S.CART_REVIEW, E.PROCEED_TO_CHECKOUT): Transition(
            S.USER_IDENTIFICATION, (G.CART_HAS_VALID_ITEMS,)
        ),
        (S.USER_IDENTIFICATION, E.SELECT_GUEST): Transition(S.GUEST_INFO),
        (S.USER_IDENTIFICATION, E.SELECT_REGISTERED): Transition(
            S.SHIPPING_ADDRESS, (G.USER_AUTHENTICATED,)
        ),
        (S.GUEST_INFO, E.SUBMIT_GUEST_INFO): Transition(S.SHIPPING_ADDRESS, (G.GUEST_INFO_VALID,)),
        (S.SHIPPING_ADDRESS, E.SUBMIT_SHIPPING): Transition(
            S.BILLING_ADDRESS, (G.SHIPPING_ADDRESS_VALID,)
        ),
        (S.SHIPPING_ADDRESS, E.USE_SHIPPING_ADDRESS): Transition(
            S.SHIPPING_METHOD, (G.SHIPPING_ADDRESS_VALID,)
        ),
        (S.BILLING_ADDRESS, E.SUBMIT_BILLING): Transition(
            S.SHIPPING_METHOD, (G.BILLING_ADDRESS_VALID,)
        ),
        (S.BILLING_ADDRESS, E.USE_SHIPPING_ADDRESS): Transition(
            S.SHIPPING_METHOD, (G.SHIPPING_ADDRESS_VALID,)
        ),
        (S.SHIPPING_METHOD, E.SELECT_SHIPPING): Transition(
            S.PAYMENT_METHOD, (G.SHIPPING_METHOD_AVAILABLE,)
        ),
        (S.PAYMENT_METHOD, E.SELECT_PAYMENT): Transition(
            S.ORDER_REVIEW, (G.PAYMENT_METHOD_CHOSEN,)
        ),
        (S.ORDER_REVIEW, E.CONFIRM_ORDER): Transition(
            S.PAYMENT_PROCESSING,
            (
                G.CART_HAS_VALID_ITEMS,
                G.SHIPPING_ADDRESS_VALID,
                G.BILLING_ADDRESS_VALID,
                G.SHIPPING_METHOD_AVAILABLE,
                G.PAYMENT_METHOD_CHOSEN,
            ),
        ),
        (S.PAYMENT_PROCESSING, E.PAYMENT_SUCCESS): Transition(S.PAYMENT_SUCCESS),
        (S.PAYMENT_PROCESSING, E.PAYMENT_FAILURE): Transition(S.PAYMENT_FAILED),
        (S.PAYMENT_FAILED, E.RETRY_PAYMENT): Transition(S.PAYMENT_METHOD),
        (S.PAYMENT_FAILED, E.CHANGE_PAYMENT_METHOD): Transition(S.PAYMENT_METHOD),
        (S.PAYMENT_SUCCESS, E.PROCEED_TO_CONFIRMATION): Transition(S.ORDER_CONFIRMATION),
    }
    # Edit links and the browser's back button: from any later step back to the step.
    edits = (
        (E.EDIT_GUEST_INFO, S.GUEST_INFO),
        (E.EDIT_SHIPPING, S.SHIPPING_ADDRESS),
        (E.EDIT_BILLING, S.BILLING_ADDRESS),
        (E.EDIT_SHIPPING_METHOD, S.SHIPPING_METHOD),
        (E.EDIT_PAYMENT, S.PAYMENT_METHOD),
    )
    for event, step in edits:
        for later in _after(step):
            table[(later, event)] = Transition(step)
    # Cancel or expire from any unfinished state: back to the cart.
    for state in State:
        if state not in FINISHED and state is not S.CART_REVIEW:
            table[(state, E.CANCEL)] = Transition(S.CART_REVIEW)
            table[(state, E.EXPIRE)] = Transition(S.CART_REVIEW)
    return table


TRANSITIONS: dict[tuple[State, Event], Transition] = _build_table()


def apply(state: State, event: Event, context: Context) -> State | Refusal:
    """The state `event` moves `state` to, or a Refusal saying why not."""
    transition = TRANSITIONS.get((state, event))
    if transition is None:
        return Refusal(state, event)
    for guard in transition.guards:
        if not context.holds(guard):
            return Refusal(state, event, guard)
    return transition.target


# The event that completes each step, when its data is already there (see fast_forward).
_COMPLETES: dict[State, Event] = {
    S.BILLING_ADDRESS: E.SUBMIT_BILLING,
    S.SHIPPING_METHOD: E.SELECT_SHIPPING,
    S.PAYMENT_METHOD: E.SELECT_PAYMENT,
}


def fast_forward(state: State, context: Context) -> State:
    """After an edit, skip the later steps whose choices still hold, so the shopper goes
    back to review instead of walking every step again (a step stops the walk when its
    guard fails, e.g. a shipping method not offered for the new address)."""
    while True:
        if state is S.SHIPPING_ADDRESS:
            event = (
                E.USE_SHIPPING_ADDRESS if context.billing_same_as_shipping else E.SUBMIT_SHIPPING
            )
        elif state is S.BILLING_ADDRESS and context.billing_same_as_shipping:
            event = E.USE_SHIPPING_ADDRESS
        elif state in _COMPLETES:
            event = _COMPLETES[state]
        else:
            return state
        moved = apply(state, event, context)
        if isinstance(moved, Refusal):
            return state
        state = moved


def step_index(state: State) -> int:
    """Position of a state in the walk; payment states count as past order_review."""
    if state in STEPS:
        return STEPS.index(state)
    return len(STEPS)


def can_visit(step: State, current: State) -> bool:
    """A step page may be shown once the session has reached it (back and edit links)."""
    return step in STEPS and step_index(step) <= step_index(current)
