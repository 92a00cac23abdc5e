"""Fixtures for the sandbox suite: one sandbox subprocess and one webhook receiver per run.

These tests never touch the Django database or Redis; they talk to the sandbox over HTTP.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from jsonschema import Draft4Validator

from stripe_sandbox.control_client import SandboxControl
from stripe_sandbox.testing import WebhookReceiver, run_sandbox
from tests.support import chromium_launch_args, shared_file

SECRET_KEY = "sk_test_sandbox_suite_0123456789"
WEBHOOK_SECRET = "whsec_sandbox_suite_secret"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides the project-wide Redis cache reset: sandbox tests use no Django services."""


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def sandbox_url(webhook_receiver: WebhookReceiver) -> Iterator[str]:
    with run_sandbox(
        secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, webhook_url=webhook_receiver.url
    ) as url:
        yield url


@pytest.fixture
def sandbox(sandbox_url: str, webhook_receiver: WebhookReceiver) -> SandboxControl:
    """The control client, after a full reset (state, toggles and startup config).

    ``wait_idle`` after the reset: an attempt of the previous test may still be in flight
    (reset drops what is pending, not what is being posted); without it, that delivery could
    reach the receiver after ``clear`` and be counted by this test."""
    ctl = SandboxControl(sandbox_url)
    ctl.reset(config=True)
    ctl.wait_idle()
    webhook_receiver.clear()
    return ctl


@pytest.fixture
def client(sandbox: SandboxControl) -> stripe.StripeClient:
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": sandbox.base_url}, max_network_retries=0
    )


def _nullable(s: Any) -> Any:
    """Stripe's OpenAPI 3.0 ``nullable: true`` -> JSON Schema ``null`` (see shared README)."""
    if isinstance(s, list):
        return [_nullable(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: _nullable(v) for k, v in s.items()}
    return {"anyOf": [out, {"type": "null"}]} if out.pop("nullable", False) else out


class SchemaChecker:
    def __init__(self, path: Path) -> None:
        doc = json.loads(path.read_text())
        self.doc = doc
        self.components = _nullable(doc["components"])
        self._validators: dict[str, Draft4Validator] = {}

    def _validator(self, ref: str) -> Draft4Validator:
        if ref not in self._validators:
            self._validators[ref] = Draft4Validator(
                {"$ref": ref, "components": self.components, "paths": {}}
            )
        return self._validators[ref]

    def errors(self, name: str, obj: Any) -> list[str]:
        v = self._validator(f"#/components/schemas/{name}")
        return sorted(f"{list(e.path)}: {e.message[:200]}" for e in v.iter_errors(obj))

    def check(self, name: str, obj: Any) -> None:
        obj = raw(obj)
        errs = self.errors(name, obj)
        assert not errs, f"{name} does not match Stripe's schema:\n" + "\n".join(errs)

    def check_list(self, name: str, obj: Any) -> None:
        obj = raw(obj)
        assert obj["object"] == "list"
        assert isinstance(obj["has_more"], bool)
        assert isinstance(obj["url"], str)
        for item in obj["data"]:
            self.check(name, item)


def raw(obj: Any) -> Any:
    """The JSON exactly as the sandbox sent it, for an SDK object that came off the wire."""
    response = getattr(obj, "last_response", None)
    if response is not None:
        return json.loads(response.body)
    return obj


@pytest.fixture(scope="session")
def schemas() -> SchemaChecker:
    # A missing schema file fails the suite: validating every response is the point.
    return SchemaChecker(
        Path(os.environ.get("STRIPE_SCHEMAS") or shared_file("stripe/schemas.json"))
    )


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium; browsers cannot be downloaded here."""
    return chromium_launch_args()
