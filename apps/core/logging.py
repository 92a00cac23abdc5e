"""Log formatting and PII redaction.

Every line is one JSON object carrying the request id. The redaction filter scrubs
what must never reach a log: email addresses, card numbers, Stripe secrets and client
secrets, bearer tokens, and values of sensitive keys passed in `extra`.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from apps.core.request_context import request_id_var

REDACTED = "[REDACTED]"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+"), "[STRIPE_KEY]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), "[WEBHOOK_SECRET]"),
    (re.compile(r"\b(?:pi|seti|cs)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"), "[CLIENT_SECRET]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [TOKEN]"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[CARD]"),
]

# Keys whose values are personal data or secrets, whatever they look like.
SENSITIVE_KEYS = frozenset(
    {
        "email",
        "customer_email",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "phone",
        "address",
        "street1",
        "street2",
        "line1",
        "line2",
        "city",
        "postal_code",
        "zip_code",
        "password",
        "card",
        "card_number",
        "cvc",
        "client_secret",
        "secret",
        "api_key",
        "authorization",
        "cookie",
    }
)

_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {str(k): redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value("", v) for v in value]
    return value


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactPiiFilter(logging.Filter):
    """Rewrites the record in place: message, args and extra fields are scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _RESERVED and key != "request_id":
                setattr(record, key, redact_value(key, value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in payload:
                payload[key] = value
        if record.exc_text:
            payload["exc"] = record.exc_text
        elif record.exc_info:
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)
