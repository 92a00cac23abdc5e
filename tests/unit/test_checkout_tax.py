"""Tax without a database: the most specific rates, per-line half-up rounding on discounted
amounts, shipping taxed only where the rate says so, non-taxable lines, the breakdown by
jurisdiction and the effective rate."""

from decimal import Decimal

import pytest

from apps.checkout.tax import RateSnapshot, TaxableLine, compute_tax, rates_for
from tests.support import imports_of

D = Decimal


def rate(
    rate_id: int,
    value: str,
    *,
    country: str = "US",
    subdivision: str = "",
    prefix: str = "",
    shipping: bool = False,
    kind: str = "sales",
) -> RateSnapshot:
    return RateSnapshot(
        rate_id=rate_id,
        name=f"rate {rate_id}",
        country=country,
        subdivision=subdivision,
        postcode_prefix=prefix,
        rate=D(value),
        kind=kind,
        applies_to_shipping=shipping,
    )


US_WIDE = rate(1, "0.01")
CA = rate(2, "0.0725", subdivision="CA")
CA_941 = rate(3, "0.08625", subdivision="CA", prefix="941")
LA_COUNTY = rate(4, "0.0225", subdivision="CA")  # same level as the state: both apply
NY = rate(5, "0.04", subdivision="NY", shipping=True)
DE = rate(6, "0.19", country="DE", shipping=True, kind="vat")
ALL = [US_WIDE, CA, CA_941, LA_COUNTY, NY, DE]


def test_the_module_imports_no_orm_or_settings() -> None:
    imported = imports_of("apps.checkout.tax")
    assert not {m for m in imported if m.startswith(("django", "apps.checkout.models"))}, imported


# Which rates apply.


@pytest.mark.parametrize(
    ("country", "subdivision", "postcode", "expected"),
    [
        ("US", "CA", "94107", [3]),  # the postcode prefix beats the state
        ("US", "CA", "90001", [2, 4]),  # state and county on the same level both apply
        ("US", "NY", "10001", [5]),
        ("US", "TX", "73301", [1]),  # only the nationwide rate
        ("us", "US-CA", "94107-1234", [3]),  # case, ISO form and ZIP+4
        ("DE", "", "10115", [6]),
        ("FR", "", "75001", []),  # no rate: no tax
    ],
)
def test_the_most_specific_rates_apply(
    country: str, subdivision: str, postcode: str, expected: list[int]
) -> None:
    assert [r.rate_id for r in rates_for(country, subdivision, postcode, ALL)] == expected


def test_a_prefix_rate_without_a_subdivision_beats_a_subdivision_rate() -> None:
    city = rate(9, "0.09", prefix="100")
    assert rates_for("US", "NY", "10001", [NY, city]) == (city,)
    assert rates_for("US", "NY", "12001", [NY, city]) == (NY,)


def test_a_longer_prefix_beats_a_shorter_one() -> None:
    short, long = rate(10, "0.05", prefix="94"), rate(11, "0.06", prefix="9410")
    assert rates_for("US", "", "94107", [short, long]) == (long,)
    assert rates_for("US", "", "94200", [short, long]) == (short,)


# Computing the tax.


def test_tax_per_line_on_the_discounted_amount_rounded_half_up_per_line() -> None:
    # 7.25% of 10.10 = 0.73225 -> 0.73; of 10.30 = 0.74675 -> 0.75.
    lines = [TaxableLine(1, D("10.10")), TaxableLine(2, D("10.30"))]
    result = compute_tax(lines, D("0"), [CA], "USD")
    assert result.per_line == {1: D("0.73"), 2: D("0.75")}
    assert result.total == D("1.48")
    # 0.07 x 7.25% = 0.005075 -> 0.01 per line; rounding the sum would give 0.02.
    tiny = [TaxableLine(i, D("0.07")) for i in range(3)]
    assert compute_tax(tiny, D("0"), [CA], "USD").total == D("0.03")


def test_half_a_cent_rounds_up() -> None:
    result = compute_tax([TaxableLine(1, D("0.10"))], D("0"), [rate(1, "0.05")], "USD")
    assert result.total == D("0.01")  # 0.005


def test_non_taxable_lines_pay_nothing() -> None:
    lines = [TaxableLine(1, D("100.00")), TaxableLine(2, D("50.00"), taxable=False)]
    result = compute_tax(lines, D("0"), [CA], "USD")
    assert result.per_line[2] == D("0.00")
    assert result.total == D("7.25")
    assert result.lines[0].taxable_amount == D("100.00")


def test_shipping_is_taxed_only_where_the_rate_says_so() -> None:
    lines = [TaxableLine(1, D("100.00"))]
    not_on_shipping = compute_tax(lines, D("10.00"), [CA], "USD")
    assert not_on_shipping.total == D("7.25")
    assert not_on_shipping.shipping == D("0.00")
    on_shipping = compute_tax(lines, D("10.00"), [DE], "USD")
    assert on_shipping.total == D("20.90")  # 19 + 1.90
    assert on_shipping.shipping == D("1.90")
    assert on_shipping.lines[0].taxable_amount == D("110.00")


def test_breakdown_by_jurisdiction_adds_up() -> None:
    lines = [TaxableLine(1, D("33.33")), TaxableLine(2, D("66.67"))]
    result = compute_tax(lines, D("5.00"), [CA, LA_COUNTY], "USD")
    assert [(t.rate_id, t.amount) for t in result.lines] == [(2, D("7.25")), (4, D("2.25"))]
    assert result.total == sum(t.amount for t in result.lines) == D("9.50")
    assert sum(result.per_line.values()) + result.shipping == result.total
    assert result.lines[0].kind == "sales"
    assert result.lines[0].rate == D("0.0725")


def test_effective_rate_is_tax_over_the_taxable_base() -> None:
    result = compute_tax([TaxableLine(1, D("200.00"))], D("0"), [CA, LA_COUNTY], "USD")
    assert result.total == D("19.00")
    assert result.effective_rate == D("0.095")
    assert result.taxable_base == D("200.00")


def test_effective_rate_is_zero_when_nothing_is_taxable() -> None:
    result = compute_tax([TaxableLine(1, D("10.00"), taxable=False)], D("0"), [CA], "USD")
    assert (result.total, result.effective_rate) == (D("0.00"), D("0"))
    empty = compute_tax([], D("0"), [], "USD")
    assert (empty.total, empty.effective_rate, empty.lines) == (D("0.00"), D("0"), ())


def test_no_rates_no_tax() -> None:
    result = compute_tax([TaxableLine(1, D("10.00"))], D("5.00"), [], "USD")
    assert result.total == D("0.00")
    assert result.lines == ()


def test_a_fully_discounted_line_pays_no_tax() -> None:
    result = compute_tax([TaxableLine(1, D("0.00")), TaxableLine(2, D("-1"))], D("0"), [CA], "USD")
    assert result.total == D("0.00")


def test_rounding_follows_the_currency() -> None:
    result = compute_tax([TaxableLine(1, D("1234"))], D("0"), [rate(1, "0.10")], "JPY")
    assert result.total == D("123")  # 123.4 yen rounds to whole yen
