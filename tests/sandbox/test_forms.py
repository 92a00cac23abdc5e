"""Stripe's bracketed form encoding, as the SDK sends it."""

from decimal import Decimal

import pytest
from stripe._encode import _api_encode

from stripe_sandbox.errors import ApiError
from stripe_sandbox.forms import MAX_DEPTH, Params, parse_form, parse_pairs


def test_sdk_encoding_round_trips() -> None:
    params = {
        "line_items": [
            {
                "price_data": {"currency": "eur", "unit_amount": 100,
                               "product_data": {"name": "A", "metadata": {"sku": "x"}}},
                "quantity": 2,
                "tax_rates": ["txr_1", "txr_2"],
            }
        ],
        "expand": ["line_items", "payment_intent"],
        "metadata": {"k": "v"},
        "flag": True,
    }  # fmt: skip
    pairs = [(k, str(v)) for k, v in _api_encode(params)]
    parsed = parse_pairs(pairs)
    assert parsed["line_items"] == [
        {
            "price_data": {"currency": "eur", "unit_amount": "100",
                           "product_data": {"name": "A", "metadata": {"sku": "x"}}},
            "quantity": "2",
            "tax_rates": ["txr_1", "txr_2"],
        }
    ]  # fmt: skip
    assert parsed["expand"] == ["line_items", "payment_intent"]
    assert parsed["flag"] == "true"


def test_empty_brackets_append() -> None:
    assert parse_form("expand[]=a&expand[]=b")["expand"] == ["a", "b"]


def test_indices_sort_numerically() -> None:
    parsed = parse_form("x[10]=k&x[2]=c&x[0]=a")
    assert parsed["x"] == ["a", "c", "k"]


def test_conflicting_shapes_are_rejected() -> None:
    with pytest.raises(ApiError) as exc:
        parse_form("a=1&a[b]=2")
    assert exc.value.status == 400


def test_params_errors_name_the_param() -> None:
    p = Params(parse_form("line_items[0][quantity]=abc"))
    item = p.items("line_items")[0]
    with pytest.raises(ApiError) as exc:
        item.integer("quantity")
    assert exc.value.param == "line_items[0][quantity]"
    assert exc.value.code == "parameter_invalid_integer"
    with pytest.raises(ApiError) as exc:
        item.req_str("price")
    assert exc.value.message == "Missing required param: line_items[0][price]."


def test_nesting_depth_is_capped() -> None:
    parse_form("a" + "[b]" * (MAX_DEPTH - 1) + "=1")
    with pytest.raises(ApiError) as exc:
        parse_form("a" + "[b]" * 1000 + "=1")
    assert exc.value.status == 400
    assert exc.value.param is not None
    assert len(exc.value.param) <= 103  # the hostile key is cut short in the error


def test_only_ascii_digits_make_a_list() -> None:
    assert parse_form("x[²]=a") == {"x": {"²": "a"}}
    assert parse_form("x[0]=a&x[1]=b") == {"x": ["a", "b"]}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", Decimal(0)), ("12.5", Decimal("12.5")), ("1." + "0" * 12, Decimal(1)),
     ("99999999", Decimal(99999999))],
)  # fmt: skip
def test_decimal_string_accepts(raw: str, expected: Decimal) -> None:
    p = Params(parse_form(f"v={raw}"))
    assert p.decimal_string("v", minimum=Decimal(0), maximum=Decimal(99999999)) == expected


@pytest.mark.parametrize(
    "raw",
    ["-1", "1e2", "NaN", "Infinity", " 1", "1.", ".5", "1." + "0" * 13, "100000000", "\u0661"],
)
def test_decimal_string_rejects(raw: str) -> None:
    p = Params(parse_pairs([("v", raw)]))
    with pytest.raises(ApiError) as exc:
        p.decimal_string("v", minimum=Decimal(0), maximum=Decimal(99999999))
    assert (exc.value.status, exc.value.param) == (400, "v")
