"""Hostile JSON bodies on the API are a clear 4xx in the envelope, logged as one WARNING
line at most: never a 500 with a traceback at ERROR (a ~2 KB body of nested arrays made
the JSON decoder raise RecursionError; a body over DATA_UPLOAD_MAX_MEMORY_SIZE raised
RequestDataTooBig)."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import Client

from apps.cart.models import CartLine
from apps.catalog.models import ProductVariant
from apps.core.logging import JsonLineFormatter
from tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)

NESTED_ARRAYS = "[" * 1000 + "]" * 1000


@contextmanager
def captured_log() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the configured console handler writes meanwhile (its stream swapped;
    the live server's thread logs through the same handler)."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonLineFormatter)
    ]
    assert handlers
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
        lines.extend(json.loads(line) for line in buffer.getvalue().splitlines())


def _assert_quiet(lines: list[dict[str, Any]]) -> None:
    """At most WARNING, and no traceback in any record."""
    assert lines, "the refused request should still leave a log line"
    for line in lines:
        assert line["level"] in {"DEBUG", "INFO", "WARNING"}, line
        assert "exc" not in line, line["msg"]


def _assert_envelope(body: dict[str, Any], code: str) -> None:
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert set(body["metadata"]) == {"timestamp", "requestId", "version"}


def _cart(client: Client) -> int:
    return int(client.post("/api/cart").json()["data"]["id"])


def _nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_deeply_nested_arrays_are_400_not_a_recursion_500(client: Client) -> None:
    client.raise_request_exception = False
    cid = _cart(client)
    with captured_log() as lines:
        response = client.post(
            f"/api/cart/{cid}/items", NESTED_ARRAYS, content_type="application/json"
        )
    assert response.status_code == 400
    body = response.json()
    _assert_envelope(body, "PARSE_ERROR")
    assert "nested" in body["error"]["details"][0]["message"]
    _assert_quiet(lines)


def test_nesting_deeper_than_the_limit_is_400_and_the_limit_itself_is_parsed(
    client: Client,
) -> None:
    from apps.core.api import MAX_JSON_DEPTH

    cid = _cart(client)
    url = f"/api/cart/{cid}/items"
    too_deep = client.post(
        url, _nested_objects(MAX_JSON_DEPTH + 1), content_type="application/json"
    )
    assert too_deep.status_code == 400
    _assert_envelope(too_deep.json(), "PARSE_ERROR")
    # At the limit the body is parsed and then judged by the serializer (unknown field).
    at_limit = client.post(url, _nested_objects(MAX_JSON_DEPTH), content_type="application/json")
    assert at_limit.status_code == 400
    _assert_envelope(at_limit.json(), "VALIDATION_ERROR")
    variant = ProductVariant.objects.get(product=make_product(stock=5))
    ok = client.post(
        url,
        {"variantId": variant.pk, "quantity": 1, "customizations": [{"type": "gift_wrap"}]},
        content_type="application/json",
    )
    assert ok.status_code == 201


def test_body_over_the_upload_limit_is_413_through_the_test_client(client: Client) -> None:
    client.raise_request_exception = False
    cid = _cart(client)
    big = json.dumps({"quantity": 1, "pad": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = client.post(f"/api/cart/{cid}/items", big, content_type="application/json")
    assert response.status_code == 413
    _assert_envelope(response.json(), "PAYLOAD_TOO_LARGE")
    assert not CartLine.objects.exists()


def test_hostile_bodies_on_a_real_server_are_4xx_and_logged_quietly(live_server: Any) -> None:
    """Over a socket DRF reads the body from the stream itself (no request.body, so no
    RequestDataTooBig): the parser enforces the limit, with or without a length."""
    session = requests.Session()
    cart = session.post(f"{live_server.url}/api/cart", timeout=10)
    cid = cart.json()["data"]["id"]
    headers = {
        "Content-Type": "application/json",
        "X-CSRFToken": session.cookies["csrftoken"],
        "Referer": live_server.url,
    }
    url = f"{live_server.url}/api/cart/{cid}/items"
    big = b'{"quantity": 1, "pad": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    with captured_log() as lines:
        nested = session.post(url, data=NESTED_ARRAYS, headers=headers, timeout=10)
        too_big = session.post(url, data=big, headers=headers, timeout=10)
        chunked = session.post(url, data=iter([big]), headers=headers, timeout=10)
        bad_charset = session.post(
            url,
            data=b'{"quantity": 1}',
            headers={**headers, "Content-Type": "application/json; charset=base64"},
            timeout=10,
        )
    assert nested.status_code == 400
    _assert_envelope(nested.json(), "PARSE_ERROR")
    assert too_big.status_code == 413
    _assert_envelope(too_big.json(), "PAYLOAD_TOO_LARGE")
    # No Content-Length (chunked): the WSGI server passes no body, so nothing is read.
    assert 400 <= chunked.status_code < 500
    assert bad_charset.status_code == 400
    _assert_envelope(bad_charset.json(), "PARSE_ERROR")
    _assert_quiet(lines)
    assert not CartLine.objects.exists()
    session.close()
