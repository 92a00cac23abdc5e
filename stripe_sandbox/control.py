"""The ``/_sandbox/`` control API used by tests and demos (JSON in, JSON out)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from .engine import Engine
from .errors import ApiError
from .store import Obj
from .webhooks import Deliverer

ControlHandler = Callable[["Control", Obj, dict[str, str], list[str]], Obj]


class Control:
    def __init__(self, engine: Engine, deliverer: Deliverer, initial: Obj) -> None:
        self.engine = engine
        self.deliverer = deliverer
        self.initial = initial  # startup config, restored by reset(config=true)
        self.routes: list[tuple[str, re.Pattern[str], ControlHandler]] = [
            ("GET", re.compile(r"^/_sandbox/health$"), Control.health),
            ("POST", re.compile(r"^/_sandbox/reset$"), Control.reset),
            ("GET", re.compile(r"^/_sandbox/config$"), Control.get_config),
            ("POST", re.compile(r"^/_sandbox/config$"), Control.set_config),
            ("GET", re.compile(r"^/_sandbox/events$"), Control.events),
            ("GET", re.compile(r"^/_sandbox/attempts$"), Control.attempts),
            ("POST", re.compile(r"^/_sandbox/events/([^/]+)/redeliver$"), Control.redeliver),
            ("POST", re.compile(r"^/_sandbox/webhooks/pause$"), Control.pause),
            ("POST", re.compile(r"^/_sandbox/webhooks/resume$"), Control.resume),
            ("POST", re.compile(r"^/_sandbox/webhooks/flush$"), Control.flush),
            ("POST", re.compile(r"^/_sandbox/webhooks/fail_next$"), Control.fail_next),
            ("GET", re.compile(r"^/_sandbox/webhooks/wait_idle$"), Control.wait_idle),
            ("POST", re.compile(r"^/_sandbox/sessions/([^/]+)/expire$"), Control.expire),
            ("POST", re.compile(r"^/_sandbox/sessions/([^/]+)/settle$"), Control.settle),
            ("POST", re.compile(r"^/_sandbox/sessions/([^/]+)/pay$"), Control.pay),
            ("POST", re.compile(r"^/_sandbox/sessions/([^/]+)/authenticate$"), Control.auth),
            ("POST", re.compile(r"^/_sandbox/api/fail_next$"), Control.api_fail_next),
            ("GET", re.compile(r"^/_sandbox/stats$"), Control.stats),
            ("GET", re.compile(r"^/_sandbox/clock$"), Control.get_clock),
            ("POST", re.compile(r"^/_sandbox/clock$"), Control.set_clock),
        ]

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Obj]:
        try:
            data: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, {"error": {"message": "The body must be JSON."}}
        if not isinstance(data, dict):
            return 400, {"error": {"message": "The body must be a JSON object."}}
        for m, pattern, handler in self.routes:
            match = pattern.match(path)
            if match and m == method:
                try:
                    return 200, handler(self, data, query, list(match.groups()))
                except ApiError as exc:
                    return exc.status, exc.body()
                except (KeyError, ValueError, TypeError) as exc:
                    return 400, {"error": {"message": f"Bad request: {exc}"}}
        return 404, {"error": {"message": f"Unknown control endpoint {method} {path}"}}

    # -- handlers ---------------------------------------------------------------------------
    def health(self, _d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        return {"ok": True}

    def reset(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        cfg = self.engine.config
        with self.engine.store.lock:
            self.engine.store.reset()
            cfg.paused = False
            cfg.fail_next = 0
            cfg.fail_mode = "500"
            cfg.api_fail_next = 0
            cfg.clock_offset = 0.0
            cfg.sign_time_offset = 0.0
            if d.get("config"):
                self._apply_config(self.initial)
        self.deliverer.notify()
        return {"ok": True, "config": cfg.public()}

    def get_config(self, _d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        return self.engine.config.public()

    def set_config(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        self._apply_config(d)
        self.deliverer.notify()
        return self.engine.config.public()

    def _apply_config(self, d: Obj) -> None:
        cfg = self.engine.config
        known = {"webhook_url", "webhook_secret", "retry_schedule", "delivery_timeout",
                 "sign_time_offset", "public_url"}  # fmt: skip
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if "webhook_url" in d:
            url = d["webhook_url"]
            cfg.webhook_url = str(url) if url else None
        if "webhook_secret" in d:
            cfg.webhook_secret = str(d["webhook_secret"])
        if "retry_schedule" in d:
            schedule = d["retry_schedule"]
            if not isinstance(schedule, list):
                raise ValueError("retry_schedule must be a list of seconds")
            cfg.retry_schedule = [float(x) for x in schedule]
        if "delivery_timeout" in d:
            cfg.delivery_timeout = float(d["delivery_timeout"])
        if "sign_time_offset" in d:
            cfg.sign_time_offset = float(d["sign_time_offset"])
        if "public_url" in d:
            cfg.public_url = str(d["public_url"]).rstrip("/")

    def events(self, _d: Obj, q: dict[str, str], _a: list[str]) -> Obj:
        """Every event, oldest first, each with its delivery state and attempts."""
        store = self.engine.store
        items, _ = store.list_objects("event", limit=100000)
        items.reverse()
        if "type" in q:
            items = [e for e in items if e["type"] == q["type"]]
        attempts: dict[str, list[Obj]] = {}
        for a in store.attempts():
            attempts.setdefault(a.event_id, []).append(a.as_dict())
        return {
            "data": [
                {
                    "event": e,
                    "delivery": store.delivery(str(e["id"])),
                    "attempts": attempts.get(str(e["id"]), []),
                }
                for e in items
            ]
        }

    def attempts(self, _d: Obj, q: dict[str, str], _a: list[str]) -> Obj:
        return {"data": [a.as_dict() for a in self.engine.store.attempts(q.get("event_id"))]}

    def redeliver(self, d: Obj, _q: dict[str, str], a: list[str]) -> Obj:
        if self.engine.store.get(a[0], "event") is None:
            raise ApiError(404, f"No such event: '{a[0]}'", code="resource_missing")
        times = int(d.get("times", 1))
        if not 1 <= times <= 50:
            raise ValueError("times must be between 1 and 50")
        results = self.deliverer.redeliver(a[0], times, bool(d.get("concurrent", True)))
        return {"data": [r.as_dict() for r in results]}

    def pause(self, _d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        self.engine.config.paused = True
        return self.engine.config.public()

    def resume(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        order = str(d.get("order", "created"))
        if order not in ("created", "reverse"):
            raise ValueError("order must be created or reverse")
        results = self.deliverer.flush(order) if order == "reverse" else []
        self.engine.config.paused = False
        self.deliverer.notify()
        return {"config": self.engine.config.public(), "data": [r.as_dict() for r in results]}

    def flush(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        order = str(d.get("order", "created"))
        if order not in ("created", "reverse"):
            raise ValueError("order must be created or reverse")
        return {"data": [r.as_dict() for r in self.deliverer.flush(order)]}

    def fail_next(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        mode = str(d.get("mode", "500"))
        if mode not in ("500", "timeout"):
            raise ValueError("mode must be 500 or timeout")
        cfg = self.engine.config
        with self.engine.store.lock:
            cfg.fail_next = int(d.get("count", 1))
            cfg.fail_mode = mode
        return cfg.public()

    def api_fail_next(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        """The next N ``/v1`` POSTs run, then answer ``500 api_error`` (fault injection)."""
        count = int(d.get("count", 1))
        if count < 0:
            raise ValueError("count must be >= 0")
        with self.engine.store.lock:
            self.engine.config.api_fail_next = count
        return self.engine.config.public()

    def stats(self, _d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        """CPU time of the whole sandbox process (tests check that idle waiting is cheap)."""
        return {
            "process_time": time.process_time(),
            "threads": threading.active_count(),
            "inflight": len(self.deliverer.inflight),
        }

    def wait_idle(self, _d: Obj, q: dict[str, str], _a: list[str]) -> Obj:
        deadline = time.monotonic() + min(float(q.get("timeout", "10")), 60.0)
        while time.monotonic() < deadline:
            if self.deliverer.idle():
                return {"idle": True}
            time.sleep(0.02)
        return {"idle": self.deliverer.idle()}

    def expire(self, _d: Obj, _q: dict[str, str], a: list[str]) -> Obj:
        from .engine import PAGE_CTX

        return self.engine.expire_session(a[0], PAGE_CTX)

    def settle(self, d: Obj, _q: dict[str, str], a: list[str]) -> Obj:
        outcome = str(d.get("outcome", "succeeded"))
        if outcome not in ("succeeded", "failed"):
            raise ValueError("outcome must be succeeded or failed")
        return self.engine.settle(a[0], succeed=outcome == "succeeded")

    def pay(self, d: Obj, _q: dict[str, str], a: list[str]) -> Obj:
        """Pay as the customer would on the hosted page (no browser needed)."""
        self.engine.session_row(a[0])
        email = str(d.get("email", "customer@example.com"))
        if d.get("method", "card") == "bank_debit":
            result = self.engine.pay_bank_debit(a[0], email=email, name=str(d.get("name", "Test")))
        else:
            result = self.engine.pay_card(
                a[0],
                number=str(d.get("card", "4242424242424242")),
                exp_month=int(d.get("exp_month", 12)),
                exp_year=int(d.get("exp_year", 2034)),
                email=email,
                name=str(d.get("name", "Test Customer")),
                country=str(d.get("country", "US")),
                postal_code=str(d.get("postal_code", "12345")),
            )
        return {
            "outcome": result.outcome,
            "message": result.message,
            "decline_code": result.decline_code,
            "redirect_url": result.redirect_url,
        }

    def auth(self, d: Obj, _q: dict[str, str], a: list[str]) -> Obj:
        self.engine.session_row(a[0])
        result = self.engine.authenticate(a[0], success=d.get("result", "complete") == "complete")
        return {"outcome": result.outcome, "message": result.message,
                "redirect_url": result.redirect_url}  # fmt: skip

    def get_clock(self, _d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        return {"now": self.engine.now(), "offset": self.engine.config.clock_offset}

    def set_clock(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        cfg = self.engine.config
        if "offset" in d:
            cfg.clock_offset = float(d["offset"])
        if "advance" in d:
            cfg.clock_offset += float(d["advance"])
        expired = self.engine.expire_due()
        return {"now": self.engine.now(), "offset": cfg.clock_offset, "expired": expired}
