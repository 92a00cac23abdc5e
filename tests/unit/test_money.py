from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import (
    MoneyError,
    format_money,
    from_minor_units,
    quantize,
    to_decimal,
    to_minor_units,
)


def test_quantize_rounds_half_up_to_cents() -> None:
    assert quantize("2.675", "USD") == Decimal("2.68")
    assert quantize("2.665", "USD") == Decimal("2.67")
    assert quantize("-2.675", "USD") == Decimal("-2.68")
    assert quantize(3, "USD") == Decimal("3.00")


def test_zero_decimal_currency_has_no_minor_digits() -> None:
    assert quantize("1234.5", "JPY") == Decimal("1235")
    assert to_minor_units("1234", "JPY") == 1234
    assert from_minor_units(1234, "JPY") == Decimal("1234")


def test_minor_units_at_the_stripe_boundary() -> None:
    assert to_minor_units(Decimal("12.34"), "USD") == 1234
    assert to_minor_units("0.005", "USD") == 1
    assert from_minor_units(1234, "USD") == Decimal("12.34")


@pytest.mark.parametrize("bad", [1.5, True, "abc", "NaN", "Infinity"])
def test_floats_booleans_and_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(MoneyError):
        to_decimal(bad)  # type: ignore[arg-type]


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(MoneyError, match="unsupported currency"):
        quantize("1.00", "XYZ")


def test_minor_units_must_be_int() -> None:
    with pytest.raises(MoneyError):
        from_minor_units("100", "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda: quantize("1.005"),  # type: ignore[call-arg]
        lambda: to_minor_units("1.00"),  # type: ignore[call-arg]
        lambda: from_minor_units(100),  # type: ignore[call-arg]
        lambda: format_money(Decimal("1")),  # type: ignore[call-arg]
    ],
)
def test_currency_is_required_wherever_money_is_rounded_or_formatted(call: object) -> None:
    """No "USD" default: a forgotten currency would round yen to cents without a word."""
    with pytest.raises(TypeError, match="currency"):
        call()  # type: ignore[operator]


def test_money_filter_needs_the_currency() -> None:
    from django.template import Context, Template, TemplateSyntaxError

    page = Template("{% load money %}{{ amount|money:currency }}")
    assert page.render(Context({"amount": Decimal("1234.5"), "currency": "JPY"})) == "¥1,235"
    with pytest.raises(TemplateSyntaxError):
        Template("{% load money %}{{ amount|money }}")


def test_format_money() -> None:
    assert format_money(Decimal("1234.5"), "USD") == "$1,234.50"
    assert format_money(Decimal("-3"), "EUR") == "-€3.00"
    assert format_money(Decimal("10"), "GBP") == "£10.00"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_minor_units_round_trip(cents: int) -> None:
    assert to_minor_units(from_minor_units(cents, "USD"), "USD") == cents


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=4))
def test_quantize_is_idempotent_and_within_half_a_cent(value: Decimal) -> None:
    once = quantize(value, "USD")
    assert quantize(once, "USD") == once
    assert abs(once - value) <= Decimal("0.005")
