"""The HTTP server: ``/v1`` API, hosted page under ``/c/pay/``, control API under ``/_sandbox``."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

from .api import Api
from .control import Control
from .engine import AUTH_FAILED, Config, Engine, PayResult, bank_method_for, luhn_ok
from .pages import FormState, challenge_page, message_page, payment_page
from .store import Store
from .webhooks import Deliverer

log = logging.getLogger("stripe_sandbox")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PAY_RE = re.compile(r"^/c/pay/([A-Za-z0-9_]+)(/3ds)?/?$")
MAX_BODY = 1024 * 1024
BODY_READ_TIMEOUT = 10.0  # a client that announces more bytes than it sends is cut off


class BadRequest(Exception):
    """A request the server cannot frame or decode: answered 4xx, never 500."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> bytes:
        return json.dumps(
            {"error": {"type": "invalid_request_error", "message": self.message}}
        ).encode()


def _decode_form(raw: bytes | str, what: str) -> list[tuple[str, str]]:
    """Form pairs from a body or query; invalid UTF-8 (raw or %-encoded) is a 400."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(400, f"Invalid request: the {what} is not valid UTF-8.") from None


class Sandbox:
    """Everything one sandbox process holds: store, engine, API, deliverer, control."""

    def __init__(self, config: Config, db_path: str | None = None) -> None:
        self.store = Store(db_path)
        self.engine = Engine(self.store, config)
        self.api = Api(self.engine)
        self.deliverer = Deliverer(self.engine)
        self.control = Control(self.engine, self.deliverer, {
            "webhook_url": config.webhook_url,
            "webhook_secret": config.webhook_secret,
            "retry_schedule": list(config.retry_schedule),
            "delivery_timeout": config.delivery_timeout,
            "sign_time_offset": 0.0,
            "public_url": config.public_url,
        })  # fmt: skip

    def start_background(self) -> None:
        self.deliverer.start()
        self.engine.start_expirer()

    def stop(self) -> None:
        self.engine.stop()
        self.deliverer.stop()


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-sandbox/1.0"
    disable_nagle_algorithm = True  # otherwise keep-alive clients wait ~40 ms per response
    server: SandboxServer

    # Only method, path (never the query or body: they may carry emails) and status are logged.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # The stdlib answered these with its own 501 HTML page; Stripe answers JSON (``/v1``), the
    # page a 405. HEAD is GET without the body.
    def do_HEAD(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    # -- plumbing --------------------------------------------------------------------------
    def _body(self) -> bytes:
        """Read exactly Content-Length bytes. A length that is missing is 0; one that is not a
        non-negative integer, or above ``MAX_BODY``, is refused before reading (and the
        connection closed, since the body's end is unknown): ``rfile.read(-1)`` would wait for
        the client to close the connection."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise BadRequest(411, "Chunked request bodies are not supported; send Content-Length.")
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not (raw.isascii() and raw.isdigit()):
            self.close_connection = True
            raise BadRequest(400, "Invalid Content-Length header.")
        length = int(raw)
        if length > MAX_BODY:
            self.close_connection = True
            raise BadRequest(413, f"Request body too large (more than {MAX_BODY} bytes).")
        if not length:
            return b""
        self.connection.settimeout(BODY_READ_TIMEOUT)
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = b""
        finally:
            self.connection.settimeout(None)
        if len(body) != length:
            self.close_connection = True
            raise BadRequest(400, "The request body is shorter than its Content-Length.")
        return body

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(303, b"", "text/html; charset=utf-8", {"Location": location})

    def _html(self, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(
            status,
            body,
            "text/html; charset=utf-8",
            {
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "form-action *; base-uri 'none'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                **(headers or {}),
            },
        )

    def _dispatch(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        path = parts.path
        sandbox = self.server.sandbox
        try:
            body = self._body()
            if path.startswith("/v1/"):
                headers = {k.lower(): v for k, v in self.headers.items()}
                resp = sandbox.api.handle(
                    self.command,
                    path,
                    _decode_form(parts.query, "query string"),
                    _decode_form(body, "request body"),
                    headers,
                )
                self._send(resp.status, resp.body, headers=resp.headers)
            elif path.startswith("/_sandbox/"):
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, obj = sandbox.control.handle(self.command, path, query, body)
                self._send(status, json.dumps(obj, indent=2).encode())
            elif path.startswith("/c/pay/"):
                self._page(path, body)
            elif path in ("/", "/favicon.ico"):
                self._html(message_page("Stripe sandbox", "An offline Stripe Checkout emulator."))
            else:
                self._send(404, b'{"error": {"message": "Not found."}}')
        except BadRequest as exc:
            if path.startswith("/c/pay/"):
                self._html(message_page("Bad request", exc.message), exc.status)
            else:
                self._send(exc.status, exc.body())
        except Exception:
            log.exception("unhandled error on %s %s", self.command, path)
            self._send(
                500,
                json.dumps(
                    {"error": {"type": "api_error", "message": "Sandbox internal error."}}
                ).encode(),
            )
        log.info(
            "%s %s %.1fms", self.command, path if not path.startswith("/c/pay/") else "/c/pay/…",
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip

    # -- hosted page ---------------------------------------------------------------------
    def _page(self, path: str, body: bytes) -> None:
        match = _PAY_RE.match(path)
        engine = self.server.sandbox.engine
        if match is None:
            self._html(message_page("Not found", "This payment page does not exist."), 404)
            return
        if self.command not in ("GET", "HEAD", "POST"):
            self._html(message_page("Not allowed", "Method not allowed."), 405,
                       {"Allow": "GET, HEAD, POST"})  # fmt: skip
            return
        cs_id, is_3ds = match.group(1), bool(match.group(2))
        row = engine.store.get_row(cs_id, "checkout.session")
        if row is None:
            self._html(message_page("Not found", "This Checkout Session does not exist."), 404)
            return
        form: dict[str, str] = dict(_decode_form(body, "form"))  # the last value of a key wins
        if self.command in ("GET", "HEAD"):
            self._show(cs_id, FormState(), is_3ds)
        elif self.command == "POST" and is_3ds:
            result = engine.authenticate(cs_id, success=form.get("action") == "complete")
            self._after_pay(cs_id, result, FormState())
        elif self.command == "POST":
            if form.get("method") == "free" or int(row.data["amount_total"]) == 0:
                self._confirm_free(cs_id, form)
            elif form.get("method") == "bank_debit":
                self._pay_bank(cs_id, form)
            else:
                self._pay_card(cs_id, form)

    def _show(self, cs_id: str, state: FormState, is_3ds: bool = False) -> None:
        engine = self.server.sandbox.engine
        with engine.store.tx():
            session, extra = engine.session_row(cs_id)
            if session["status"] == "open" and session["expires_at"] <= engine.now():
                engine.expire_due()
                session, extra = engine.session_row(cs_id)
        status = session["status"]
        if status == "expired":
            link = (str(session["cancel_url"]), "Return to the shop") if session.get(
                "cancel_url") else None  # fmt: skip
            self._html(message_page(
                "This checkout session has expired",
                "This payment page has expired and can no longer be paid. Nothing was charged. "
                "Return to the shop to start again.", link))  # fmt: skip
            return
        if status == "complete":
            self._html(message_page(
                "This payment is complete",
                "This checkout session has already been completed. You will not be charged "
                "again.", (engine.success_redirect(session), "Return to the shop")))  # fmt: skip
            return
        pi_id = session.get("payment_intent")
        pi = engine.store.get(str(pi_id), "payment_intent") if pi_id else None
        requires_action = pi is not None and pi["status"] == "requires_action"
        if is_3ds:
            if requires_action:
                self._html(challenge_page(session))
            else:
                self._redirect(f"/c/pay/{cs_id}")
            return
        if requires_action:
            self._redirect(f"/c/pay/{cs_id}/3ds")
            return
        shipping_name = None
        if session.get("shipping_cost"):
            rate = engine.store.get(str(session["shipping_cost"]["shipping_rate"]))
            shipping_name = str(rate["display_name"]) if rate else None
        bank = bank_method_for(str(session["currency"]))
        self._html(payment_page(
            session, list(extra.get("line_items") or []), shipping_name, state,
            bank if bank in session["payment_method_types"] else None,
        ))  # fmt: skip

    def _after_pay(self, cs_id: str, result: PayResult, state: FormState) -> None:
        if result.outcome in ("succeeded", "processing", "requires_action"):
            assert result.redirect_url is not None
            self._redirect(result.redirect_url)
        elif result.outcome == "not_open":
            self._redirect(f"/c/pay/{cs_id}")
        else:
            state.alert = result.message or AUTH_FAILED
            for key in ("cardnumber", "exp", "cvc"):
                state.values.pop(key, None)
            self._show(cs_id, state)

    def _pay_card(self, cs_id: str, form: dict[str, str]) -> None:
        engine = self.server.sandbox.engine
        state = FormState(values={k: form.get(k, "") for k in
                                  ("email", "cardnumber", "exp", "cvc", "name", "country",
                                   "postal")})  # fmt: skip
        errors = state.errors
        email = form.get("email", "").strip()
        if not _EMAIL_RE.match(email):
            errors["email"] = "Enter a valid email address."
        number = re.sub(r"[\s-]", "", form.get("cardnumber", ""))
        if not number:
            errors["cardnumber"] = "Enter your card number."
        elif not re.fullmatch(r"[0-9]{13,19}", number) or not luhn_ok(number):
            errors["cardnumber"] = "Your card number is invalid."
        exp = re.sub(r"\s", "", form.get("exp", ""))
        m = re.fullmatch(r"([0-9]{1,2})/?([0-9]{2}|[0-9]{4})", exp)
        exp_month = exp_year = 0
        if not m:
            errors["exp"] = "Enter the expiry date as MM / YY."
        else:
            exp_month = int(m.group(1))
            exp_year = int(m.group(2))
            if exp_year < 100:
                exp_year += 2000
            now = datetime.fromtimestamp(engine.now(), tz=UTC)
            if not 1 <= exp_month <= 12:
                errors["exp"] = "Your card's expiration month is invalid."
            elif (exp_year, exp_month) < (now.year, now.month):
                errors["exp"] = "Your card's expiration date is in the past."
        cvc = form.get("cvc", "").strip()
        if not re.fullmatch(r"[0-9]{3,4}", cvc):
            errors["cvc"] = "Your card's security code is incomplete."
        name = form.get("name", "").strip()
        if not name:
            errors["name"] = "Enter the name on the card."
        postal = form.get("postal", "").strip()
        if not postal:
            errors["postal"] = "Enter your postal code."
        country = form.get("country", "US")
        if errors:
            state.alert = "Please correct the highlighted fields."
            self._show(cs_id, state)
            return
        result = engine.pay_card(
            cs_id,
            number=number,
            exp_month=exp_month,
            exp_year=exp_year,
            email=email,
            name=name,
            country=country[:2].upper() or None,
            postal_code=postal,
        )
        self._after_pay(cs_id, result, state)

    def _confirm_free(self, cs_id: str, form: dict[str, str]) -> None:
        state = FormState(values={"email": form.get("email", "")})
        email = form.get("email", "").strip()
        if not _EMAIL_RE.match(email):
            state.errors["email"] = "Enter a valid email address."
            state.alert = "Please correct the highlighted fields."
            self._show(cs_id, state)
            return
        result = self.server.sandbox.engine.complete_free(cs_id, email=email)
        self._after_pay(cs_id, result, state)

    def _pay_bank(self, cs_id: str, form: dict[str, str]) -> None:
        engine = self.server.sandbox.engine
        state = FormState(values={k: form.get(k, "") for k in ("bank_email", "bank_name")})
        email = form.get("bank_email", "").strip()
        name = form.get("bank_name", "").strip()
        if not _EMAIL_RE.match(email):
            state.errors["bank_email"] = "Enter a valid email address."
        if not name:
            state.errors["bank_name"] = "Enter the account holder's name."
        if state.errors:
            state.alert = "Please correct the highlighted fields."
            self._show(cs_id, state)
            return
        result = engine.pay_bank_debit(cs_id, email=email, name=name)
        self._after_pay(cs_id, result, state)
