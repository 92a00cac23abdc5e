"""Django's own request logging goes through the JSON handler, redacted, with the request id.

`django.request` logs 4xx/5xx responses after our middleware returned, passing the request
object as an extra; its repr carries the raw query string (an email, a phone number).
"""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.test import Client

from apps.core.logging import JsonLineFormatter, RedactPiiFilter, RequestIdFilter

pytestmark = pytest.mark.django_db


def _json_handlers() -> list[logging.StreamHandler[io.StringIO]]:
    return [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonLineFormatter)
    ]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes, captured (the real handler, filters and
    formatter from settings.LOGGING, only its stream swapped)."""
    handlers = _json_handlers()
    assert handlers, "settings.LOGGING should put a JSON console handler on the root logger"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)  # type: ignore[arg-type]


def test_404_with_pii_in_the_query_logs_no_pii_and_the_response_request_id(
    client: Client, log_output: io.StringIO
) -> None:
    response = client.get("/no-such-page/?email=someone@example.com&phone=+15551234567")
    assert response.status_code == 404
    out = log_output.getvalue()
    assert "someone@example.com" not in out
    assert "someone%40example.com" not in out
    assert "15551234567" not in out
    assert "email=" not in out
    lines = [json.loads(line) for line in out.splitlines()]
    request_lines = [line for line in lines if line["logger"] == "django.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["request"] == "GET /no-such-page/"
    assert line["status_code"] == 404


@pytest.mark.parametrize(
    "name", ["django", "django.request", "django.server", "django.security.csrf", "celery"]
)
def test_every_django_record_reaches_only_redacting_json_handlers(name: str) -> None:
    """Django's default config would leave a plain-text console handler on "django" (the
    query string and tracebacks unredacted) and stop "django.server" from propagating
    (4xx access lines then go to logging's last-resort handler, raw)."""
    logger: logging.Logger | None = logging.getLogger(name)
    reached: list[logging.Handler] = []
    while logger is not None:
        reached.extend(logger.handlers)
        if not logger.propagate:
            break
        logger = logger.parent
    ours = [
        h
        for h in reached
        if not type(h).__module__.startswith("_pytest") and not isinstance(h, logging.NullHandler)
    ]
    assert ours, f"{name} records reach no handler"
    for handler in ours:
        assert isinstance(handler.formatter, JsonLineFormatter), (name, handler)
        assert any(isinstance(f, RedactPiiFilter) for f in handler.filters), (name, handler)
        assert any(isinstance(f, RequestIdFilter) for f in handler.filters), (name, handler)
