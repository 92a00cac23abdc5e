"""Malformed requests get a 4xx, never a 500 or a hung connection (issue #3)."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from stripe_sandbox.control_client import SandboxControl

from .conftest import SECRET_KEY, SchemaChecker
from .helpers import create_session

AUTH = (SECRET_KEY, "")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _raw(base_url: str, request: bytes, timeout: float = 3.0) -> tuple[bytes, float]:
    """Send raw bytes; return the status line and how long the answer took."""
    parts = urlsplit(base_url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)  # a hang raises TimeoutError and fails the test
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0], time.monotonic() - started


def _post_head(length: str) -> bytes:
    return (
        "POST /v1/checkout/sessions HTTP/1.1\r\nHost: sandbox\r\n"
        f"Authorization: Bearer {SECRET_KEY}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [b"mode=payment&success_url=\xff\xfe", b"mode=%FF%FE", b"\xc3(=1"],
    ids=["raw", "percent-encoded", "key"],
)
def test_non_utf8_body_is_400(sandbox: SandboxControl, schemas: SchemaChecker, body: bytes) -> None:
    r = requests.post(
        f"{sandbox.base_url}/v1/checkout/sessions", data=body, headers=FORM, auth=AUTH, timeout=5
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "UTF-8" in r.json()["error"]["message"]
    schemas.check("error", r.json())


def test_non_utf8_query_is_400(sandbox: SandboxControl) -> None:
    r = requests.get(f"{sandbox.base_url}/v1/events?type=%FF", auth=AUTH, timeout=5)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_non_utf8_payment_form_is_400(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client)
    r = requests.post(s.url, data=b"method=card&email=\xff", headers=FORM, timeout=5)
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("text/html")
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cardnumber", "\u00b2" * 16),  # superscript two: str.isdigit() says yes, int() says no
        ("cardnumber", "\uff14\uff12" * 8),  # full-width 4242...
        ("exp", "\u0661\u0662/\u0663\u0664"),  # Arabic-Indic 12/34
        ("cvc", "\u0661\u0662\u0663"),
    ],
)
def test_non_ascii_digits_on_the_payment_form_are_a_form_error(
    client: Any, sandbox: SandboxControl, field: str, value: str
) -> None:
    s = create_session(client)
    form = {"method": "card", "email": "a@b.co", "cardnumber": "4242424242424242",
            "exp": "12/34", "cvc": "123", "name": "X", "country": "US", "postal": "1"}  # fmt: skip
    form[field] = value
    r = requests.post(s.url, data=form, timeout=5, allow_redirects=False)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/html")
    assert "invalid" in r.text or "incomplete" in r.text or "MM / YY" in r.text
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"


@pytest.mark.parametrize("depth", [13, 1000])
def test_deeply_nested_keys_are_400(
    sandbox: SandboxControl, schemas: SchemaChecker, depth: int
) -> None:
    key = "metadata" + "[a]" * depth
    r = requests.post(
        f"{sandbox.base_url}/v1/checkout/sessions", data={key: "1"}, auth=AUTH, timeout=5
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"].startswith("metadata[a]")
    assert "nested" in error["message"]
    schemas.check("error", r.json())


def test_non_ascii_digit_index_is_400(sandbox: SandboxControl) -> None:
    """``"²".isdigit()`` is true but ``int("²")`` raises: such an index must not 500."""
    r = requests.post(
        f"{sandbox.base_url}/v1/checkout/sessions",
        data={"line_items[²][quantity]": "1", "line_items[0][quantity]": "1"},
        auth=AUTH,
        timeout=5,
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("length", ["-1", "-100", "abc", "1e3", "0x10", "²"])
def test_bad_content_length_is_400_at_once(sandbox: SandboxControl, length: str) -> None:
    """``rfile.read(-1)`` waited for the client to close the connection: a hang."""
    status, took = _raw(sandbox.base_url, _post_head(length) + b"mode=payment")
    assert status.startswith(b"HTTP/1.1 400"), status
    assert took < 1.0


def test_oversized_body_is_413_without_reading_it(sandbox: SandboxControl) -> None:
    status, took = _raw(sandbox.base_url, _post_head(str(2 * 1024 * 1024)))
    assert status.startswith(b"HTTP/1.1 413"), status
    assert took < 1.0
    r = requests.post(
        f"{sandbox.base_url}/v1/checkout/sessions",
        data={"metadata[k]": "x" * (1024 * 1024 + 1)},
        auth=AUTH,
        timeout=10,
    )
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_chunked_body_is_refused(sandbox: SandboxControl) -> None:
    request = (
        "POST /v1/checkout/sessions HTTP/1.1\r\nHost: sandbox\r\n"
        f"Authorization: Bearer {SECRET_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4\r\nmode\r\n0\r\n\r\n"
    ).encode()
    status, _ = _raw(sandbox.base_url, request)
    assert status.startswith(b"HTTP/1.1 411"), status


def test_server_still_serves_after_bad_requests(client: Any, sandbox: SandboxControl) -> None:
    _raw(sandbox.base_url, _post_head("-1"))
    _raw(sandbox.base_url, _post_head(str(10 * 1024 * 1024)))
    assert create_session(client).status == "open"


_SESSION_FORM = {
    "mode": "payment",
    "success_url": "http://shop.test/ok",
    "line_items[0][price_data][currency]": "eur",
    "line_items[0][price_data][unit_amount]": "1000",
    "line_items[0][price_data][product_data][name]": "Shirt",
    "line_items[0][quantity]": "1",
}
_SHIPPING = {
    "shipping_options[0][shipping_rate_data][display_name]": "Post",
    "shipping_options[0][shipping_rate_data][fixed_amount][currency]": "eur",
    "shipping_options[0][shipping_rate_data][fixed_amount][amount]": "500",
    "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][unit]": "day",
    "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][value]": "1",
}
# (method, path, base params, the integer parameter under test)
_INTEGER_PARAMS = [
    *[("GET", path, {}, param) for path in ("/v1/events", "/v1/checkout/sessions")
      for param in ("created", "created[gt]", "created[gte]", "created[lt]", "created[lte]",
                    "limit")],
    ("POST", "/v1/checkout/sessions", _SESSION_FORM, "expires_at"),
    ("POST", "/v1/checkout/sessions", _SESSION_FORM, "line_items[0][price_data][unit_amount]"),
    ("POST", "/v1/checkout/sessions", _SESSION_FORM, "line_items[0][quantity]"),
    ("POST", "/v1/checkout/sessions", {**_SESSION_FORM, **_SHIPPING},
     "shipping_options[0][shipping_rate_data][fixed_amount][amount]"),
    ("POST", "/v1/checkout/sessions", {**_SESSION_FORM, **_SHIPPING},
     "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][value]"),
    ("POST", "/v1/coupons", {"percent_off": "10"}, "redeem_by"),
    ("POST", "/v1/coupons", {"percent_off": "10"}, "max_redemptions"),
    ("POST", "/v1/coupons", {"percent_off": "10", "duration": "repeating"},
     "duration_in_months"),
    ("POST", "/v1/coupons", {"currency": "eur"}, "amount_off"),
    ("POST", "/v1/coupons", {}, "percent_off"),
    ("POST", "/v1/tax_rates", {"display_name": "VAT", "inclusive": "false"}, "percentage"),
    ("POST", "/v1/refunds", {"payment_intent": "pi_missing"}, "amount"),
]  # fmt: skip


def _send(sandbox: SandboxControl, method: str, path: str, data: dict[str, str]) -> Any:
    """A GET with query parameters or a POST with a form body, as the SDK sends them."""
    if method == "GET":
        return requests.get(f"{sandbox.base_url}{path}", params=data, auth=AUTH, timeout=5)
    return requests.post(f"{sandbox.base_url}{path}", data=data, auth=AUTH, timeout=5)


@pytest.mark.parametrize("value", [10**30, -(10**30)], ids=["1e30", "-1e30"])
@pytest.mark.parametrize(
    ("method", "path", "base", "param"),
    _INTEGER_PARAMS,
    ids=[f"{m} {p} {param}" for m, p, _b, param in _INTEGER_PARAMS],
)
def test_huge_integers_are_400_naming_the_param(
    sandbox: SandboxControl,
    schemas: SchemaChecker,
    method: str,
    path: str,
    base: dict[str, str],
    param: str,
    value: int,
) -> None:
    """``created[gte]=99999999999999999999999`` reached SQLite: OverflowError, a 500. Every
    integer parameter is bounded (Stripe's are 64-bit), and out of range is a 400 naming it."""
    r = _send(sandbox, method, path, {**base, param: str(value)})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    schemas.check("error", r.json())


def test_line_items_limit_overflow_is_400(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client)
    r = requests.get(
        f"{sandbox.base_url}/v1/checkout/sessions/{s.id}/line_items",
        params={"limit": str(10**30)},
        auth=AUTH,
        timeout=5,
    )
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "limit"


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63)], ids=["int64max", "int64min"])
@pytest.mark.parametrize(
    ("method", "path", "base", "param"),
    _INTEGER_PARAMS,
    ids=[f"{m} {p} {param}" for m, p, _b, param in _INTEGER_PARAMS],
)
def test_int64_edge_integers_are_never_500(
    sandbox: SandboxControl,
    method: str,
    path: str,
    base: dict[str, str],
    param: str,
    value: int,
) -> None:
    """The largest accepted integers must not overflow later (totals, SQLite, JSON)."""
    r = _send(sandbox, method, path, {**base, param: str(value)})
    assert r.status_code < 500, r.text


def test_huge_coupon_amount_off_in_a_session_is_not_500(
    client: Any, sandbox: SandboxControl
) -> None:
    coupon = requests.post(
        f"{sandbox.base_url}/v1/coupons",
        data={"amount_off": str(2**63 - 1), "currency": "eur"},
        auth=AUTH,
        timeout=5,
    )
    if coupon.status_code == 200:
        r = requests.post(
            f"{sandbox.base_url}/v1/checkout/sessions",
            data={**_SESSION_FORM, "discounts[0][coupon]": coupon.json()["id"]},
            auth=AUTH,
            timeout=5,
        )
        assert r.status_code < 500, r.text
    else:
        assert coupon.status_code == 400


def _control(sandbox: SandboxControl, path: str, body: bytes) -> requests.Response:
    return requests.post(
        f"{sandbox.base_url}/_sandbox{path}",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )


@pytest.mark.parametrize(
    "body",
    [b'{"offset": NaN}', b'{"offset": Infinity}', b'{"offset": 1e400}', b'{"advance": NaN}',
     b'{"offset": 1e15}', b'{"advance": -1e15}', b'{"offset": "soon"}', b'{"offset": [1]}'],
)  # fmt: skip
def test_bad_clock_is_400_and_leaves_the_clock_alone(
    client: Any, sandbox: SandboxControl, body: bytes
) -> None:
    """A bad offset is refused before it is stored, so later /v1 requests keep working."""
    sandbox.set_clock(offset=60)
    r = _control(sandbox, "/clock", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"]
    assert sandbox.clock()["offset"] == 60
    assert create_session(client).status == "open"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/fail_next", b'{"count": 1e400}'),
        ("/webhooks/fail_next", b'{"count": -1}'),
        ("/webhooks/fail_next", b'{"count": NaN}'),
        ("/webhooks/fail_next", b'{"count": 100000000000000000000000000}'),
        ("/api/fail_next", b'{"count": 1e400}'),
        ("/api/fail_next", b'{"count": "many"}'),
        ("/events/evt_x/redeliver", b'{"times": 1e400}'),
    ],
)
def test_bad_control_integers_are_400(sandbox: SandboxControl, path: str, body: bytes) -> None:
    """Out-of-range or non-integer counts (``int(1e400)`` overflows) are a 400, config unchanged."""
    before = sandbox.config()
    r = _control(sandbox, path, body)
    assert r.status_code in (400, 404), r.text
    assert sandbox.config() == before


def _session_post(sandbox: SandboxControl, key: str, **extra: str) -> requests.Response:
    return requests.post(
        f"{sandbox.base_url}/v1/checkout/sessions",
        data={**_SESSION_FORM, **extra},
        headers={"Idempotency-Key": key},
        auth=AUTH,
        timeout=5,
    )


def test_empty_idempotency_key_is_no_key(sandbox: SandboxControl) -> None:
    """An empty ``Idempotency-Key`` is no key, so a keyless-looking POST with other parameters
    gets neither ``idempotency_error`` nor a replay of someone else's session."""
    first = _session_post(sandbox, "", client_reference_id="a")
    second = _session_post(sandbox, "", client_reference_id="b")
    assert first.status_code == second.status_code == 200, second.text
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second.headers


def test_idempotency_key_over_255_characters_is_400(sandbox: SandboxControl) -> None:
    assert _session_post(sandbox, "k" * 255).status_code == 200
    r = _session_post(sandbox, "k" * 256)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "255" in r.json()["error"]["message"]


# -- path ids are URL-decoded (the SDK quote_plus-es them) ---------------------------------------
@pytest.mark.parametrize("coupon_id", ["SAVE 10", "é", "a+b", "50%off", "x?y#z", "~!*'()"])
def test_coupon_ids_with_reserved_characters_can_be_retrieved(
    client: Any, sandbox: SandboxControl, coupon_id: str
) -> None:
    """Path segments are decoded before matching: the SDK sends ``SAVE+10`` for ``SAVE 10``,
    and the retrieve must find ``SAVE 10``."""
    created = client.v1.coupons.create(
        params={"id": coupon_id, "percent_off": 10, "duration": "once"}
    )
    assert created.id == coupon_id
    assert client.v1.coupons.retrieve(coupon_id).id == coupon_id


def test_unknown_encoded_id_is_named_decoded_in_the_404(sandbox: SandboxControl) -> None:
    r = requests.get(f"{sandbox.base_url}/v1/coupons/no%20such%2Fthing", auth=AUTH, timeout=5)
    assert r.status_code == 404
    assert "'no such/thing'" in r.json()["error"]["message"]


def test_non_utf8_path_id_is_400(sandbox: SandboxControl) -> None:
    r = requests.get(f"{sandbox.base_url}/v1/coupons/%FF", auth=AUTH, timeout=5)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("coupon_id", ["a/b", "/", "a\nb", "tab\there", "nul\x7f"])
def test_coupon_id_that_could_never_be_fetched_is_400(
    sandbox: SandboxControl, schemas: SchemaChecker, coupon_id: str
) -> None:
    r = requests.post(
        f"{sandbox.base_url}/v1/coupons",
        data={"id": coupon_id, "percent_off": "10"},
        auth=AUTH,
        timeout=5,
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "id"
    schemas.check("error", r.json())


# -- /_sandbox/config values ------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [b'{"public_url": 5}', b'{"public_url": ""}', b'{"public_url": null}',
     b'{"public_url": "shop.test"}', b'{"public_url": "ftp://shop.test"}',
     b'{"public_url": "http://"}', b'{"public_url": "http://h:99999"}',
     b'{"public_url": "http://h/?q=1"}', b'{"public_url": "http://h/#top"}',
     b'{"public_url": "http://h/a b"}',
     b'{"webhook_secret": 5}', b'{"webhook_secret": ""}', b'{"webhook_secret": null}',
     b'{"webhook_secret": ["whsec_x"]}'],
)  # fmt: skip
def test_bad_public_url_or_webhook_secret_is_400_and_config_unchanged(
    client: Any, sandbox: SandboxControl, body: bytes
) -> None:
    """A non-URL ``public_url`` (e.g. ``5``) is refused: no session URL is ``5/c/pay/...``."""
    before = sandbox.config()
    r = _control(sandbox, "/config", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"]
    assert sandbox.config() == before
    assert create_session(client).url.startswith(f"{before['public_url']}/c/pay/")


def test_good_public_url_is_used_for_session_urls(client: Any, sandbox: SandboxControl) -> None:
    r = _control(sandbox, "/config", b'{"public_url": "https://pay.shop.test:8443/sandbox/"}')
    assert r.status_code == 200, r.text
    assert create_session(client).url.startswith("https://pay.shop.test:8443/sandbox/c/pay/cs_")


# -- other HTTP methods -----------------------------------------------------------------------
@pytest.mark.parametrize("method", ["PUT", "PATCH", "OPTIONS", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/checkout/sessions", "/v1/coupons/x", "/v1/nothing"])
def test_other_methods_on_v1_are_stripe_json_404(
    sandbox: SandboxControl, schemas: SchemaChecker, method: str, path: str
) -> None:
    """PUT/PATCH/OPTIONS are answered in JSON as on Stripe, not with the stdlib's ``501`` page."""
    r = requests.request(method, f"{sandbox.base_url}{path}", auth=AUTH, timeout=5)
    assert r.status_code == 404, r.text[:200]
    assert r.headers["Content-Type"].startswith("application/json")
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"Unrecognized request URL ({method}: {path})")
    schemas.check("error", r.json())


def test_head_on_v1_is_get_without_a_body(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client)
    url = f"{sandbox.base_url}/v1/checkout/sessions/{s.id}"
    got = requests.get(url, auth=AUTH, timeout=5)
    head = requests.head(url, auth=AUTH, timeout=5)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert requests.head(f"{sandbox.base_url}/v1/nothing", auth=AUTH, timeout=5).status_code == 404


@pytest.mark.parametrize("method", ["PUT", "PATCH", "OPTIONS", "DELETE"])
def test_other_methods_on_the_hosted_page_are_405_html(
    client: Any, sandbox: SandboxControl, method: str
) -> None:
    s = create_session(client)
    r = requests.request(method, s.url, timeout=5)
    assert r.status_code == 405, r.text[:200]
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Allow"] == "GET, HEAD, POST"
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"


def test_head_on_the_hosted_page_is_get_without_a_body(
    client: Any, sandbox: SandboxControl
) -> None:
    s = create_session(client)
    head = requests.head(s.url, timeout=5)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Type"].startswith("text/html")
    assert int(head.headers["Content-Length"]) == len(requests.get(s.url, timeout=5).content)


# -- /_sandbox/sessions/{id}/pay ----------------------------------------------------------------
@pytest.mark.parametrize("method", ["crypto", "", "Card", 5])
def test_pay_with_an_unknown_method_is_400(
    client: Any, sandbox: SandboxControl, method: object
) -> None:
    """An unknown method such as ``{"method": "crypto"}`` is refused, never paid as a card."""
    s = create_session(client)
    r = requests.post(
        f"{sandbox.base_url}/_sandbox/sessions/{s.id}/pay", json={"method": method}, timeout=5
    )
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert "card" in message
    assert "bank_debit" in message
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"


@pytest.mark.parametrize("value", ["5", "ftp://x", "http://h/?q=1"])
def test_bad_public_url_on_the_command_line_is_refused(value: str) -> None:
    from stripe_sandbox.__main__ import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--public-url", value])
    args = build_parser().parse_args(["--public-url", "http://127.0.0.1:9/"])
    assert args.public_url == "http://127.0.0.1:9"
