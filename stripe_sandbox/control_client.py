"""A small typed client for the sandbox's ``/_sandbox/`` control API (tests import this).

ctl = SandboxControl("http://127.0.0.1:12111")
ctl.reset()
ctl.pause_webhooks()
ctl.pay(session_id, card="4000000000000002")
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, TypedDict

Json = dict[str, Any]


class PayOutcome(TypedDict):
    outcome: str  # succeeded | declined | requires_action | processing | not_open
    message: str | None
    decline_code: str | None
    redirect_url: str | None


class SandboxControlError(RuntimeError):
    def __init__(self, status: int, body: Json) -> None:
        super().__init__(f"sandbox control API answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxControl:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Json | None = None, **query: Any) -> Json:
        url = f"{self.base_url}/_sandbox{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 - the sandbox URL comes from the caller
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                result = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise SandboxControlError(exc.code, json.loads(exc.read() or b"{}")) from None
        if not isinstance(result, dict):
            raise SandboxControlError(200, {"unexpected": result})
        return result

    # -- state ------------------------------------------------------------------------------
    def health(self) -> bool:
        return bool(self._call("GET", "/health").get("ok"))

    def reset(self, *, config: bool = False) -> Json:
        """Drop all objects, events, attempts and keys; clear pause/failures/clock.
        ``config=True`` also restores the startup webhook URL, secret and retry schedule."""
        return self._call("POST", "/reset", {"config": config})

    def config(self) -> Json:
        return self._call("GET", "/config")

    def configure(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        retry_schedule: list[float] | None = None,
        delivery_timeout: float | None = None,
        sign_time_offset: float | None = None,
    ) -> Json:
        body: Json = {}
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        if webhook_secret is not None:
            body["webhook_secret"] = webhook_secret
        if retry_schedule is not None:
            body["retry_schedule"] = retry_schedule
        if delivery_timeout is not None:
            body["delivery_timeout"] = delivery_timeout
        if sign_time_offset is not None:
            body["sign_time_offset"] = sign_time_offset
        return self._call("POST", "/config", body)

    # -- events and deliveries -----------------------------------------------------------------
    def events(self, type: str | None = None) -> list[Json]:
        """Events oldest first: ``{"event", "delivery", "attempts"}`` each."""
        data = self._call("GET", "/events", type=type).get("data")
        return list(data) if isinstance(data, list) else []

    def attempts(self, event_id: str | None = None) -> list[Json]:
        data = self._call("GET", "/attempts", event_id=event_id).get("data")
        return list(data) if isinstance(data, list) else []

    def pause_webhooks(self) -> Json:
        return self._call("POST", "/webhooks/pause", {})

    def resume_webhooks(self, order: str = "created") -> Json:
        """``order="reverse"`` first delivers everything pending newest-first, synchronously."""
        return self._call("POST", "/webhooks/resume", {"order": order})

    def flush_webhooks(self, order: str = "created") -> list[Json]:
        data = self._call("POST", "/webhooks/flush", {"order": order}).get("data")
        return list(data) if isinstance(data, list) else []

    def fail_next(self, count: int, mode: str = "500") -> Json:
        """The next ``count`` attempts fail: ``"500"`` (not sent) or ``"timeout"`` (sent, but
        the answer is dropped, so the receiver sees a duplicate later)."""
        return self._call("POST", "/webhooks/fail_next", {"count": count, "mode": mode})

    def redeliver(self, event_id: str, times: int = 1, *, concurrent: bool = True) -> list[Json]:
        body = {"times": times, "concurrent": concurrent}
        data = self._call("POST", f"/events/{event_id}/redeliver", body).get("data")
        return list(data) if isinstance(data, list) else []

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is pending or in flight (False on timeout)."""
        return bool(self._call("GET", "/webhooks/wait_idle", timeout=timeout).get("idle"))

    def wait_for_event(self, event_type: str, timeout: float = 10.0) -> Json:
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(event_type)
            if found:
                event = found[-1]["event"]
                assert isinstance(event, dict)
                return event
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event_type} event within {timeout}s")
            time.sleep(0.05)

    def fail_next_api(self, count: int = 1) -> Json:
        """The next ``count`` ``/v1`` POSTs run, then answer ``500 api_error``."""
        return self._call("POST", "/api/fail_next", {"count": count})

    def stats(self) -> Json:
        """``{"process_time": CPU seconds of the sandbox process, "threads", "inflight"}``."""
        return self._call("GET", "/stats")

    # -- sessions ---------------------------------------------------------------------------
    def expire(self, session_id: str) -> Json:
        return self._call("POST", f"/sessions/{session_id}/expire", {})

    def settle(self, session_id: str, outcome: str = "succeeded") -> Json:
        """Finish a delayed (bank debit) payment: ``succeeded`` or ``failed``."""
        return self._call("POST", f"/sessions/{session_id}/settle", {"outcome": outcome})

    def pay(
        self,
        session_id: str,
        card: str = "4242424242424242",
        *,
        method: str = "card",
        email: str = "customer@example.com",
        name: str = "Test Customer",
    ) -> PayOutcome:
        """Pay as the customer would on the hosted page, without a browser."""
        r = self._call(
            "POST",
            f"/sessions/{session_id}/pay",
            {"card": card, "method": method, "email": email, "name": name},
        )
        return PayOutcome(
            outcome=str(r["outcome"]),
            message=r.get("message"),
            decline_code=r.get("decline_code"),
            redirect_url=r.get("redirect_url"),
        )

    def authenticate(self, session_id: str, *, complete: bool = True) -> PayOutcome:
        r = self._call(
            "POST",
            f"/sessions/{session_id}/authenticate",
            {"result": "complete" if complete else "fail"},
        )
        return PayOutcome(
            outcome=str(r["outcome"]),
            message=r.get("message"),
            decline_code=None,
            redirect_url=r.get("redirect_url"),
        )

    # -- clock ------------------------------------------------------------------------------
    def clock(self) -> Json:
        return self._call("GET", "/clock")

    def set_clock(self, *, offset: float | None = None, advance: float | None = None) -> Json:
        body: Json = {}
        if offset is not None:
            body["offset"] = offset
        if advance is not None:
            body["advance"] = advance
        return self._call("POST", "/clock", body)
