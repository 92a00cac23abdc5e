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
