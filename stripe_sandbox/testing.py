"""Helpers for test suites: run the sandbox as a subprocess; receive webhooks in-process.

with run_sandbox(secret_key="sk_test_x", webhook_secret="whsec_x") as url: ...
with WebhookReceiver() as receiver: receiver.url, receiver.wait_for("checkout...")
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_sandbox(
    *,
    secret_key: str,
    webhook_secret: str,
    webhook_url: str | None = None,
    port: int | None = None,
    db: str | None = None,
    retry_schedule: str = "0.05,0.1,0.2,0.4",
    delivery_timeout: float = 2.0,
    log_level: str = "WARNING",
) -> Iterator[str]:
    """Start ``python -m stripe_sandbox`` on a free port; yield its base URL."""
    port = port or free_port()
    cmd = [
        sys.executable, "-m", "stripe_sandbox", "--host", "127.0.0.1", "--port", str(port),
        "--secret-key", secret_key, "--webhook-secret", webhook_secret,
        "--retry-schedule", retry_schedule, "--delivery-timeout", str(delivery_timeout),
        "--log-level", log_level,
    ]  # fmt: skip
    if webhook_url:
        cmd += ["--webhook-url", webhook_url]
    if db:
        cmd += ["--db", db]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_SANDBOX_")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"stripe_sandbox exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("stripe_sandbox did not start within 15 s")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    received_at: float

    @property
    def event(self) -> dict[str, Any]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data

    @property
    def signature(self) -> str:
        return self.headers.get("stripe-signature", "")


@dataclass
class WebhookReceiver:
    """A stdlib HTTP server thread that records every POST and answers ``status``."""

    status: int = 200
    fail_first: int = 0  # answer 500 to this many requests first
    delay: float = 0.0
    redirect_to: str | None = None  # sent as Location (answer with a 3xx ``status``)
    deliveries: list[Delivery] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/webhooks/stripe/"

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.deliveries.append(
                        Delivery(body, {k.lower(): v for k, v in self.headers.items()}, time.time())
                    )
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        status = 500
                    else:
                        status = receiver.status
                    receiver._cond.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                payload = b'{"received": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                """A stand-in merchant page, so success/cancel redirects land somewhere."""
                payload = b"<!doctype html><title>Shop</title><h1>Shop page</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def clear(self) -> None:
        with self._cond:
            self.deliveries.clear()
            self.status = 200
            self.fail_first = 0
            self.delay = 0.0
            self.redirect_to = None

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            items = list(self.deliveries)
        return [d.event for d in items if event_type is None or d.event["type"] == event_type]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 10.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [d for d in self.deliveries if d.event["type"] == event_type]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"expected {count} {event_type} deliveries, got {len(found)}"
                    )
                self._cond.wait(left)
