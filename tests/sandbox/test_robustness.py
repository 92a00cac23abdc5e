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
