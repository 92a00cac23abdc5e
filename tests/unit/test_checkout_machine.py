"""The checkout machine, pair by pair: every (state, event) in the table moves when its
guards hold and names the first failing guard otherwise; every other pair is refused."""

from dataclasses import fields, replace
from itertools import product

import pytest

from apps.checkout.machine import (
    FINISHED,
    GUARD_MESSAGES,
    STEPS,
    TRANSITIONS,
    Context,
    Event,
    Guard,
    Refusal,
    State,
    Transition,
    apply,
    can_visit,
    fast_forward,
)

ALL_GUARDS = dict.fromkeys(g.value for g in Guard)
EVERYTHING_HOLDS = Context(**dict.fromkeys(ALL_GUARDS, True))
NOTHING_HOLDS = Context(**dict.fromkeys(ALL_GUARDS, False))

TABLE = sorted(TRANSITIONS.items(), key=lambda item: (item[0][0].value, item[0][1].value))
NOT_IN_TABLE = [pair for pair in product(State, Event) if pair not in TRANSITIONS]


def _id(pair: tuple[State, Event]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


def test_every_guard_is_a_context_field_with_a_message() -> None:
    names = {f.name for f in fields(Context)}
    for guard in Guard:
        assert guard.value in names
        assert GUARD_MESSAGES[guard]


@pytest.mark.parametrize(("pair", "transition"), TABLE, ids=[_id(p) for p, _ in TABLE])
def test_pair_in_table_moves_when_its_guards_hold(
    pair: tuple[State, Event], transition: Transition
) -> None:
    state, event = pair
    only_its_guards = Context(**{g.value: True for g in transition.guards})
    assert apply(state, event, only_its_guards) is transition.target
    assert apply(state, event, EVERYTHING_HOLDS) is transition.target


@pytest.mark.parametrize(("pair", "transition"), TABLE, ids=[_id(p) for p, _ in TABLE])
def test_pair_in_table_names_the_first_failing_guard(
    pair: tuple[State, Event], transition: Transition
) -> None:
    state, event = pair
    for index, guard in enumerate(transition.guards):
        # Only this guard fails: it is named.
        alone = replace(EVERYTHING_HOLDS, **{guard.value: False})
        assert apply(state, event, alone) == Refusal(state, event, guard)
        # This one and every later one fail: still the first in the table's order.
        from_here = replace(EVERYTHING_HOLDS, **{g.value: False for g in transition.guards[index:]})
        assert apply(state, event, from_here) == Refusal(state, event, guard)
    if transition.guards:
        assert apply(state, event, NOTHING_HOLDS) == Refusal(state, event, transition.guards[0])


@pytest.mark.parametrize("pair", NOT_IN_TABLE, ids=[_id(p) for p in NOT_IN_TABLE])
def test_pair_not_in_table_is_refused_without_a_guard(pair: tuple[State, Event]) -> None:
    state, event = pair
    refusal = apply(state, event, EVERYTHING_HOLDS)
    assert refusal == Refusal(state, event, None)
    assert isinstance(refusal, Refusal)
    assert refusal.message == "That step is not available right now."


def test_table_and_refusals_partition_all_pairs() -> None:
    assert len(TRANSITIONS) + len(NOT_IN_TABLE) == len(State) * len(Event)


def test_refusal_message_names_the_guard() -> None:
    refusal = apply(State.CART_REVIEW, Event.PROCEED_TO_CHECKOUT, NOTHING_HOLDS)
    assert isinstance(refusal, Refusal)
    assert refusal.guard is Guard.CART_HAS_VALID_ITEMS
    assert refusal.message == GUARD_MESSAGES[Guard.CART_HAS_VALID_ITEMS]


# The table's shape, as the decisions ask (see docs/checkout.md).


def test_happy_path_as_guest_with_separate_billing() -> None:
    ctx = EVERYTHING_HOLDS
    state = State.CART_REVIEW
    for event in (
        Event.PROCEED_TO_CHECKOUT,
        Event.SELECT_GUEST,
        Event.SUBMIT_GUEST_INFO,
        Event.SUBMIT_SHIPPING,
        Event.SUBMIT_BILLING,
        Event.SELECT_SHIPPING,
        Event.SELECT_PAYMENT,
        Event.CONFIRM_ORDER,
        Event.PAYMENT_SUCCESS,
        Event.PROCEED_TO_CONFIRMATION,
    ):
        moved = apply(state, event, ctx)
        assert isinstance(moved, State), (state, event, moved)
        state = moved
    assert state is State.ORDER_CONFIRMATION


def test_registered_shopper_skips_guest_info_and_billing() -> None:
    ctx = EVERYTHING_HOLDS
    assert apply(State.USER_IDENTIFICATION, Event.SELECT_REGISTERED, ctx) is State.SHIPPING_ADDRESS
    assert apply(State.SHIPPING_ADDRESS, Event.USE_SHIPPING_ADDRESS, ctx) is State.SHIPPING_METHOD


def test_cancel_and_expire_from_every_unfinished_state_and_never_from_finished() -> None:
    for state in State:
        for event in (Event.CANCEL, Event.EXPIRE):
            moved = apply(state, event, NOTHING_HOLDS)
            if state in FINISHED or state is State.CART_REVIEW:
                assert isinstance(moved, Refusal)
            else:
                assert moved is State.CART_REVIEW


def test_edits_only_from_later_walkable_steps() -> None:
    edits = {
        Event.EDIT_GUEST_INFO: State.GUEST_INFO,
        Event.EDIT_SHIPPING: State.SHIPPING_ADDRESS,
        Event.EDIT_BILLING: State.BILLING_ADDRESS,
        Event.EDIT_SHIPPING_METHOD: State.SHIPPING_METHOD,
        Event.EDIT_PAYMENT: State.PAYMENT_METHOD,
    }
    for event, step in edits.items():
        for state in State:
            moved = apply(state, event, NOTHING_HOLDS)
            later = state in STEPS and STEPS.index(state) > STEPS.index(step)
            assert (moved is step) if later else isinstance(moved, Refusal), (state, event)


def test_retry_and_change_payment_method_are_the_same_transition() -> None:
    retry = TRANSITIONS[(State.PAYMENT_FAILED, Event.RETRY_PAYMENT)]
    change = TRANSITIONS[(State.PAYMENT_FAILED, Event.CHANGE_PAYMENT_METHOD)]
    assert retry == change == Transition(State.PAYMENT_METHOD)


# fast_forward


def test_fast_forward_returns_to_review_when_later_choices_hold() -> None:
    assert fast_forward(State.SHIPPING_ADDRESS, EVERYTHING_HOLDS) is State.ORDER_REVIEW
    separate = replace(EVERYTHING_HOLDS, billing_same_as_shipping=False)
    assert fast_forward(State.SHIPPING_ADDRESS, separate) is State.ORDER_REVIEW
    assert fast_forward(State.BILLING_ADDRESS, separate) is State.ORDER_REVIEW
    assert fast_forward(State.SHIPPING_METHOD, EVERYTHING_HOLDS) is State.ORDER_REVIEW
    assert fast_forward(State.PAYMENT_METHOD, EVERYTHING_HOLDS) is State.ORDER_REVIEW


@pytest.mark.parametrize(
    ("start", "failing", "same", "stops_at"),
    [
        (State.SHIPPING_ADDRESS, Guard.SHIPPING_ADDRESS_VALID, True, State.SHIPPING_ADDRESS),
        (State.SHIPPING_ADDRESS, Guard.SHIPPING_ADDRESS_VALID, False, State.SHIPPING_ADDRESS),
        (State.SHIPPING_ADDRESS, Guard.BILLING_ADDRESS_VALID, False, State.BILLING_ADDRESS),
        (State.SHIPPING_ADDRESS, Guard.SHIPPING_METHOD_AVAILABLE, True, State.SHIPPING_METHOD),
        (State.SHIPPING_ADDRESS, Guard.SHIPPING_METHOD_AVAILABLE, False, State.SHIPPING_METHOD),
        (State.SHIPPING_ADDRESS, Guard.PAYMENT_METHOD_CHOSEN, True, State.PAYMENT_METHOD),
        (State.BILLING_ADDRESS, Guard.BILLING_ADDRESS_VALID, False, State.BILLING_ADDRESS),
        (State.BILLING_ADDRESS, Guard.SHIPPING_METHOD_AVAILABLE, False, State.SHIPPING_METHOD),
        (State.SHIPPING_METHOD, Guard.SHIPPING_METHOD_AVAILABLE, True, State.SHIPPING_METHOD),
        (State.SHIPPING_METHOD, Guard.PAYMENT_METHOD_CHOSEN, True, State.PAYMENT_METHOD),
        (State.PAYMENT_METHOD, Guard.PAYMENT_METHOD_CHOSEN, True, State.PAYMENT_METHOD),
    ],
)
def test_fast_forward_stops_at_the_first_step_whose_guard_fails(
    start: State, failing: Guard, same: bool, stops_at: State
) -> None:
    ctx = replace(EVERYTHING_HOLDS, billing_same_as_shipping=same, **{failing.value: False})
    assert fast_forward(start, ctx) is stops_at


def test_fast_forward_skips_billing_when_same_as_shipping() -> None:
    # The billing guard fails, but billing is the shipping address: the step is skipped.
    ctx = replace(EVERYTHING_HOLDS, billing_address_valid=False, billing_same_as_shipping=True)
    assert fast_forward(State.SHIPPING_ADDRESS, ctx) is State.ORDER_REVIEW
    assert fast_forward(State.BILLING_ADDRESS, ctx) is State.ORDER_REVIEW
    # Billing same as shipping on the billing step still needs a valid shipping address.
    no_shipping = replace(ctx, shipping_address_valid=False)
    assert fast_forward(State.BILLING_ADDRESS, no_shipping) is State.BILLING_ADDRESS


@pytest.mark.parametrize(
    "state",
    [
        State.CART_REVIEW,
        State.USER_IDENTIFICATION,
        State.GUEST_INFO,
        State.ORDER_REVIEW,
        *sorted(set(State) - set(STEPS)),
    ],
)
def test_fast_forward_leaves_other_states_alone(state: State) -> None:
    assert fast_forward(state, EVERYTHING_HOLDS) is state


# can_visit


def test_can_visit_reached_steps_only() -> None:
    for step, current in product(State, State):
        expected = step in STEPS and (
            current not in STEPS or STEPS.index(step) <= STEPS.index(current)
        )
        assert can_visit(step, current) is expected, (step, current)


def test_can_visit_examples() -> None:
    assert can_visit(State.SHIPPING_ADDRESS, State.ORDER_REVIEW)
    assert can_visit(State.SHIPPING_METHOD, State.SHIPPING_METHOD)
    assert not can_visit(State.PAYMENT_METHOD, State.SHIPPING_ADDRESS)
    assert not can_visit(State.PAYMENT_FAILED, State.PAYMENT_FAILED)
    assert can_visit(State.ORDER_REVIEW, State.PAYMENT_FAILED)
