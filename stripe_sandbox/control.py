"""The ``/_sandbox/`` control API used by tests and demos (JSON in, JSON out)."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .api import path_segment
from .engine import Engine
from .errors import ApiError
from .store import Obj
from .webhooks import Deliverer

PAY_METHODS = ("card", "bank_debit")
ControlHandler = Callable[["Control", Obj, dict[str, str], list[str]], Obj]


def check_webhook_url(value: object, name: str = "webhook_url") -> str:
    """An ``http(s)://host[:port]/...`` URL, else ValueError. A URL urllib cannot post to
    (no host, a bad port) is refused here, so no delivery fails with an exception."""
    url = str(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http:// or https:// URL with a host: {url!r}")
    try:
        port = parts.port  # ValueError for "notaport" or a port out of 0-65535
    except ValueError:
        raise ValueError(f"{name} has an invalid port: {url!r}") from None
    if port == 0 or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError(f"{name} is not a valid URL: {url!r}")
    return url


def check_public_url(value: object) -> str:
    """The base of every ``session.url``: an ``http(s)://host[:port][/prefix]`` string with no
    query or fragment (``/c/pay/...`` is appended to it). A non-string is refused, so a
    session URL can never become ``5/c/pay/...``."""
    if not isinstance(value, str):
        raise ValueError("public_url must be a string")
    url = check_webhook_url(value, "public_url")
    parts = urlsplit(url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError(f"public_url cannot have a query or fragment: {url!r}")
    return url.rstrip("/")


def check_secret(value: object) -> str:
    """A non-empty string that is valid UTF-8 (a lone surrogate would crash every signature);
    a number or ``null`` is refused rather than stored as ``"5"`` or ``"None"``."""
    if not isinstance(value, str) or not value:
        raise ValueError("webhook_secret must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("webhook_secret must be valid UTF-8 text") from None
    return value


def _number_of_seconds(name: str, value: object) -> float:
    """A JSON number or numeric string as a float (NaN and inf included: callers bound it);
    booleans and other types are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number of seconds")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} is out of range") from None


def check_seconds(
    name: str, value: object, *, positive: bool = False, limit: float = 86400.0
) -> float:
    """A finite number of seconds (> 0 if ``positive``, else >= 0), at most ``limit``."""
    seconds = _number_of_seconds(name, value)
    if not math.isfinite(seconds) or seconds > limit or seconds < 0 or (positive and seconds == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound} and <= {limit:g}")
    return seconds


def check_offset(name: str, value: object, *, limit: float = 100 * 365 * 86400.0) -> float:
    """A finite signed offset in seconds, within ``limit`` (a century): a NaN or inf clock
    made every later timestamp a 500 (int(nan), or too large for SQLite)."""
    seconds = _number_of_seconds(name, value)
    if not math.isfinite(seconds) or abs(seconds) > limit:
        raise ValueError(f"{name} must be a finite number of seconds within +-{limit:g}")
    return seconds


def check_int(name: str, value: object, *, minimum: int, maximum: int) -> int:
    """An integer in [minimum, maximum], else ValueError (a 400), including JSON ``1e400`` (inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be an integer")
    try:
        number = int(value)
    except OverflowError:
        raise ValueError(f"{name} is out of range") from None
    if not minimum <= number <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}")
    return number


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
            if match and m == ("GET" if method == "HEAD" else method):
                try:
                    args = [path_segment(g) for g in match.groups()]
                    return 200, handler(self, data, query, args)
                except ApiError as exc:
                    return exc.status, exc.body()
                except (KeyError, ValueError, TypeError, OverflowError) as exc:
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
        # Validate everything first, then assign: a bad value must leave the config unchanged.
        new: Obj = {}
        if "webhook_url" in d:
            url = d["webhook_url"]
            new["webhook_url"] = check_webhook_url(url) if url else None
        if "webhook_secret" in d:
            new["webhook_secret"] = check_secret(d["webhook_secret"])
        if "retry_schedule" in d:
            schedule = d["retry_schedule"]
            if not isinstance(schedule, list):
                raise ValueError("retry_schedule must be a list of seconds")
            if len(schedule) > 50:
                raise ValueError("retry_schedule can have at most 50 entries")
            new["retry_schedule"] = [check_seconds("retry_schedule", x) for x in schedule]
        if "delivery_timeout" in d:
            new["delivery_timeout"] = check_seconds(
                "delivery_timeout", d["delivery_timeout"], positive=True, limit=600.0
            )
        if "sign_time_offset" in d:
            new["sign_time_offset"] = check_offset("sign_time_offset", d["sign_time_offset"])
        if "public_url" in d:
            new["public_url"] = check_public_url(d["public_url"])
        for key, value in new.items():
            setattr(cfg, key, value)

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
        times = check_int("times", d.get("times", 1), minimum=1, maximum=50)
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
        count = check_int("count", d.get("count", 1), minimum=0, maximum=1_000_000)
        with self.engine.store.lock:
            cfg.fail_next = count
            cfg.fail_mode = mode
        return cfg.public()

    def api_fail_next(self, d: Obj, _q: dict[str, str], _a: list[str]) -> Obj:
        """The next N ``/v1`` POSTs run, then answer ``500 api_error`` (fault injection)."""
        count = check_int("count", d.get("count", 1), minimum=0, maximum=1_000_000)
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
        deadline = time.monotonic() + check_seconds("timeout", q.get("timeout", "10"), limit=60.0)
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
        method = d.get("method", "card")
        if method not in PAY_METHODS:
            # Refused, so an unknown method is never paid as a card.
            raise ValueError(f"method must be one of: {', '.join(PAY_METHODS)}; got {method!r}")
        if method == "bank_debit":
            result = self.engine.pay_bank_debit(a[0], email=email, name=str(d.get("name", "Test")))
        else:
            result = self.engine.pay_card(
                a[0],
                number=str(d.get("card", "4242424242424242")),
                exp_month=check_int("exp_month", d.get("exp_month", 12), minimum=1, maximum=12),
                exp_year=check_int("exp_year", d.get("exp_year", 2034), minimum=0, maximum=9999),
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
        # Checked before assigning, so a refused (e.g. NaN) offset is never stored and later
        # /v1 requests keep working.
        offset = cfg.clock_offset
        if "offset" in d:
            offset = check_offset("offset", d["offset"])
        if "advance" in d:
            offset = check_offset("offset", offset + check_offset("advance", d["advance"]))
        cfg.clock_offset = offset
        expired = self.engine.expire_due()
        return {"now": self.engine.now(), "offset": cfg.clock_offset, "expired": expired}
