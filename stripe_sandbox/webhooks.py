"""Webhook signing and the asynchronous, at-least-once delivery worker."""

from __future__ import annotations

import contextlib
import hmac
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256

from .engine import Engine
from .store import Attempt, Obj

log = logging.getLogger("stripe_sandbox.webhooks")
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value: ``t=...,v1=HMAC-SHA256(secret, "t.body")``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + payload, sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Stripe treats a 3xx answer as a failed delivery: never follow it (a followed 302 would
    turn the POST into a GET that some page answers 200)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# No redirect handling, and no proxies from the environment: the endpoint is called directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def event_payload(event: Obj) -> bytes:
    return json.dumps(event, indent=2).encode("utf-8")


class Deliverer:
    """Posts each event to the configured URL; retries failures on ``retry_schedule``."""

    def __init__(self, engine: Engine, workers: int = 4) -> None:
        self.engine = engine
        self.store = engine.store
        # Lock order: ``store.lock`` may be held when ``notify`` runs (events are emitted inside
        # transactions), so ``notify`` only sets an Event, and ``self.mu`` is never held while
        # the store is used.
        self.wake = threading.Event()
        self.mu = threading.Lock()
        self.inflight: set[str] = set()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox-hook")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-webhooks", daemon=True)
        engine.on_event = self.notify

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def notify(self, _event_id: str | None = None) -> None:
        self.wake.set()

    def idle(self) -> bool:
        with self.mu:
            if self.inflight:
                return False
        return not self.engine.config.webhook_url or not self.store.pending_deliveries()

    # -- scheduling -----------------------------------------------------------------------
    def _loop(self) -> None:
        # Sleep until the next delivery that is not already in flight falls due, or until
        # ``wake`` is set (a new event, a finished attempt, a config change). Counting in-flight
        # deliveries here made the wait 0 while one was being posted: a busy loop at 100% CPU
        # for as long as a slow endpoint took to answer.
        while not self._stop.is_set():
            cfg = self.engine.config
            wait = 0.5
            if not cfg.paused and cfg.webhook_url:
                with self.mu:
                    busy = set(self.inflight)
                due_at = self.store.next_due_at(exclude=busy)
                if due_at is not None:
                    wait = max(0.0, min(wait, due_at - time.time()))
            if wait > 0:
                self.wake.wait(wait)
            self.wake.clear()
            if self._stop.is_set():
                return
            if cfg.paused or not cfg.webhook_url:
                continue
            due = self.store.due_deliveries(time.time(), set())
            with self.mu:
                due = [e for e in due if e not in self.inflight]
                self.inflight.update(due)
            for event_id in due:
                self.pool.submit(self._scheduled, event_id)

    def _scheduled(self, event_id: str) -> None:
        try:
            self.attempt(event_id, "scheduled")
        except Exception as exc:
            # Still pending and due: without a recorded failure the loop re-posted it at once,
            # ~1000 times a second. Count it as a failed attempt, so the retry schedule applies.
            log.exception("delivery of %s crashed", event_id)
            error = f"sandbox error before the request completed: {type(exc).__name__}: {exc}"
            crashed = Attempt(event_id, "scheduled", time.time(), self.engine.config.webhook_url,
                              None, error[:500], 0.0, False)  # fmt: skip
            try:
                self._record(None, crashed)
            except Exception:
                log.exception("could not record the crashed delivery of %s", event_id)
        finally:
            with self.mu:
                self.inflight.discard(event_id)
            self.wake.set()

    # -- one attempt ----------------------------------------------------------------------
    def attempt(self, event_id: str, kind: str) -> Attempt:
        """Post the event once. ``kind``: scheduled | flush | redeliver."""
        cfg = self.engine.config
        with self.store.lock:
            event = self.store.get(event_id, "event")
            if event is None:
                raise KeyError(event_id)
            url = cfg.webhook_url
            secret = cfg.webhook_secret
            timeout = cfg.delivery_timeout
            simulated: str | None = None
            if cfg.fail_next > 0:
                cfg.fail_next -= 1
                simulated = cfg.fail_mode
        payload = event_payload(event)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        if url is None:
            error = "no webhook URL configured"
        elif simulated == "500":
            status = 500
            error = "simulated failure (fail_next, mode 500): the request was not sent"
        else:
            ts = int(time.time() + cfg.sign_time_offset)
            req = urllib.request.Request(  # noqa: S310 - URL is operator configuration
                url,
                data=payload,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                    "Stripe-Signature": sign(payload, secret, ts),
                    "Cache-Control": "no-cache",
                    "Accept": "*/*; q=0.5, application/xml",
                },
            )
            try:
                with _OPENER.open(req, timeout=timeout) as resp:
                    status = int(resp.status)
                    resp.read(65536)
            except urllib.error.HTTPError as exc:
                status = int(exc.code)
                error = f"HTTP {exc.code}"
                if 300 <= status < 400:
                    error += " (redirects are not followed: a 3xx is a failed delivery)"
                exc.close()
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                error = f"timed out or unreachable: {type(exc).__name__}"
            except (http.client.HTTPException, ValueError) as exc:
                # Not an HTTP answer (BadStatusLine from e.g. a Redis port), a bad URL or port
                # (InvalidURL), a bad timeout: a failed delivery like any other, retried on
                # schedule. (These escaped, and the worker re-posted at once, forever.)
                error = f"invalid response or request: {type(exc).__name__}: {exc}"[:500]
            if simulated == "timeout":
                error = "simulated timeout (fail_next, mode timeout): the response was dropped"
                status = None
        duration = (time.monotonic() - started) * 1000
        ok = status is not None and 200 <= status < 300 and error is None
        attempt = Attempt(event_id, kind, time.time(), url, status, error, duration, ok)
        log.info(
            "webhook %s %s -> %s%s",
            event.get("type"),
            event_id,
            status if status is not None else "-",
            "" if ok else f" ({error or 'non-2xx'})",
        )
        self._record(event, attempt)
        return attempt

    def _record(self, event: Obj | None, attempt: Attempt) -> None:
        """Store the attempt and move the delivery on. ``event`` None: the attempt crashed
        before it had the event, so it cannot have succeeded."""
        event_id = attempt.event_id
        with self.store.tx():
            if self.store.get(event_id) is None:  # reset while the attempt was in flight
                return
            self.store.add_attempt(attempt)
            d = self.store.delivery(event_id)
            if d is None or d["state"] != "pending" or self.store.get(event_id) is None:
                return
            attempts = int(d["attempts"]) + 1
            if attempt.ok and event is not None:
                self.store.update_delivery(
                    event_id,
                    state="delivered",
                    attempts=attempts,
                    next_at=attempt.at,
                    delivered_at=attempt.at,
                )
                event["pending_webhooks"] = 0
                self.store.put(event)
                return
            schedule = self.engine.config.retry_schedule
            if attempts > len(schedule):
                self.store.update_delivery(
                    event_id, state="failed", attempts=attempts, next_at=attempt.at,
                    delivered_at=None,
                )  # fmt: skip
            else:
                self.store.update_delivery(
                    event_id,
                    state="pending",
                    attempts=attempts,
                    next_at=time.time() + schedule[attempts - 1],
                    delivered_at=None,
                )
        self.notify()

    # -- control operations -----------------------------------------------------------------
    def flush(self, order: str = "created") -> list[Attempt]:
        """Deliver every pending event now, one at a time, in creation or reverse order."""
        pending = self.store.pending_deliveries()
        with self.mu:
            pending = [e for e in pending if e not in self.inflight]
            self.inflight.update(pending)
        if order == "reverse":
            pending.reverse()
        results: list[Attempt] = []
        try:
            for event_id in pending:
                results.append(self.attempt(event_id, "flush"))
        finally:
            with self.mu:
                self.inflight.difference_update(pending)
            self.wake.set()
        return results

    def redeliver(self, event_id: str, times: int, concurrent: bool) -> list[Attempt]:
        if not concurrent:
            return [self.attempt(event_id, "redeliver") for _ in range(times)]
        barrier = threading.Barrier(times)
        results: list[Attempt | None] = [None] * times

        def run(i: int) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            results[i] = self.attempt(event_id, "redeliver")

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(times)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [r for r in results if r is not None]
