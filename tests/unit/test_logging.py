import json
import logging

import pytest

from apps.core.logging import JsonLineFormatter, RedactPiiFilter, RequestIdFilter, redact_text
from apps.core.request_context import request_id_var


def render(msg: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("shop.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    RequestIdFilter().filter(record)
    RedactPiiFilter().filter(record)
    return json.loads(JsonLineFormatter().format(record))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("customer jane.doe+shop@example.co.uk paid", "jane.doe+shop@example.co.uk"),
        ("key sk_test_51HxYzAbC123 used", "sk_test_51HxYzAbC123"),
        ("key sk_live_abcDEF987 used", "sk_live_abcDEF987"),
        ("secret whsec_abc123XYZ", "whsec_abc123XYZ"),
        ("secret pi_3Nabc_secret_Zxy987", "pi_3Nabc_secret_Zxy987"),
        ("card 4242 4242 4242 4242 ok", "4242 4242 4242 4242"),
        ("card 4000000000009995 ok", "4000000000009995"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
    ],
)
def test_redact_text_removes_pii_and_secrets(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_ids_survive_redaction() -> None:
    text = "order 42 cart 7 session cs_test_a1B2c3 intent pi_3Nabc"
    assert redact_text(text) == text


def test_log_line_is_json_with_request_id_and_no_pii() -> None:
    token = request_id_var.set("req-12345678")
    try:
        line = render(
            "order %s for %s",
            42,
            "someone@example.com",
            email="someone@example.com",
            shipping={"city": "Springfield", "order_id": 42},
        )
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-12345678"
    assert line["msg"] == "order 42 for [EMAIL]"
    assert line["email"] == "[REDACTED]"
    assert line["shipping"] == {"city": "[REDACTED]", "order_id": 42}
    assert "someone@example.com" not in json.dumps(line)


def test_exception_text_is_redacted() -> None:
    try:
        raise ValueError("bad email a@b.example")
    except ValueError:
        record = logging.LogRecord(
            "shop.test", logging.ERROR, __file__, 1, "failed", None, __import__("sys").exc_info()
        )
    RedactPiiFilter().filter(record)
    out = JsonLineFormatter().format(record)
    assert "a@b.example" not in out
    assert "ValueError" in out


class _Request:
    """Stands in for the WSGIRequest Django passes to django.request's records."""

    request_id = "req-from-the-request"
    method = "GET"
    path = "/orders/lookup/"

    def __str__(self) -> str:
        return "<WSGIRequest: GET '/orders/lookup/?email=someone@example.com&phone=+15551234567'>"


def test_request_extra_is_logged_as_method_and_path_never_its_repr() -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/orders/lookup/?email=someone@example.com&phone=+15551234567")
    request.request_id = "req-abcdef12"  # type: ignore[attr-defined]
    line = render("Not Found: %s", request.path, request=request, status_code=404)
    assert line["request"] == "GET /orders/lookup/"
    assert line["request_id"] == "req-abcdef12"
    out = json.dumps(line)
    assert "example.com" not in out
    assert "15551234567" not in out


def test_request_id_comes_from_the_request_when_the_context_is_gone() -> None:
    # django.request logs after RequestIdMiddleware has reset the context variable.
    line = render("Not Found: %s", "/x/", request=_Request())
    assert line["request_id"] == "req-from-the-request"
    assert line["request"] == "<_Request>"


def test_unknown_objects_are_never_rendered_through_their_repr() -> None:
    class Customer:
        pk = 7

        def __str__(self) -> str:
            return "Jane Doe"

    class Opaque:
        def __repr__(self) -> str:
            return "Jane Doe, 1 Main St"

    from decimal import Decimal

    line = render("x", customer=Customer(), blob=Opaque(), amount=Decimal("9.99"), tags={"a"})
    assert line["customer"] == "Customer:7"
    assert line["blob"] == "<Opaque>"
    assert line["amount"] == "9.99"
    assert line["tags"] == ["a"]
    assert "Jane" not in json.dumps(line)


def test_formatter_alone_does_not_repr_objects() -> None:
    """A handler configured without the redaction filter still never prints a repr."""
    record = logging.LogRecord("shop.test", logging.INFO, __file__, 1, "x", None, None)
    record.request = _Request()
    out = JsonLineFormatter().format(record)
    assert "someone@example.com" not in out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('"GET /search/?q=jane@example.com HTTP/1.1" 200 12', "q=jane"),
        ("https://shop.example/lookup?phone=5551234567&x=1", "5551234567"),
        ("call +1 555 123 4567 now", "555 123 4567"),
        ("call +15551234567 now", "+15551234567"),
        # Quotes and angle brackets do not end a query string, so what follows is masked too.
        ("GET /lookup/?q=O'Brien+Road+42 HTTP/1.1", "Road+42"),
        ('GET /lookup/?q=say"hi"+jane+doe 200', "jane+doe"),
        ("GET /lookup/?q=<b>12+Elm+St</b>&x=1 200", "Elm+St"),
        ("https://shop.example/p/?a=1&name=O'Neil'&zip=90210", "90210"),
    ],
)
def test_query_strings_and_phone_numbers_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_paths_without_query_survive() -> None:
    assert redact_text("GET /catalog/shoes/ 200") == "GET /catalog/shoes/ 200"
    assert redact_text("GET /search/?q=boots") == "GET /search/?[QUERY]"
    assert redact_text("GET /a/?q=O'Brien+Road+42 200") == "GET /a/?[QUERY] 200"
    assert redact_text("GET /a/?q=1#top") == "GET /a/?[QUERY]#top"
