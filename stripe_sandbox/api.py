"""The ``/v1`` API: routing, auth, idempotency, expansion and list pagination."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from . import API_VERSION, objects
from .engine import IDEMPOTENCY_TTL, Engine, RequestCtx, public, public_list
from .errors import ApiError, invalid, no_such
from .forms import Node, Params, parse_pairs
from .store import Obj

log = logging.getLogger("stripe_sandbox.api")


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Engine, Params, RequestCtx, list[str]], Obj]


def _dump(obj: Obj) -> bytes:
    return json.dumps(obj, indent=2).encode("utf-8")


class Api:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"^/v1/checkout/sessions$"), _create_session),
            ("GET", re.compile(r"^/v1/checkout/sessions$"), _list_sessions),
            ("GET", re.compile(r"^/v1/checkout/sessions/([^/]+)$"), _get_session),
            ("GET", re.compile(r"^/v1/checkout/sessions/([^/]+)/line_items$"), _line_items),
            ("POST", re.compile(r"^/v1/checkout/sessions/([^/]+)/expire$"), _expire_session),
            ("POST", re.compile(r"^/v1/coupons$"), _create_coupon),
            ("GET", re.compile(r"^/v1/coupons/([^/]+)$"), _get_coupon),
            ("POST", re.compile(r"^/v1/tax_rates$"), _create_tax_rate),
            ("GET", re.compile(r"^/v1/tax_rates/([^/]+)$"), _get_tax_rate),
            ("GET", re.compile(r"^/v1/payment_intents/([^/]+)$"), _get_pi),
            ("POST", re.compile(r"^/v1/payment_intents/([^/]+)$"), _update_pi),
            ("GET", re.compile(r"^/v1/charges/([^/]+)$"), _get_charge),
            ("POST", re.compile(r"^/v1/refunds$"), _create_refund),
            ("GET", re.compile(r"^/v1/refunds/([^/]+)$"), _get_refund),
            ("GET", re.compile(r"^/v1/events$"), _list_events),
            ("GET", re.compile(r"^/v1/events/([^/]+)$"), _get_event),
        ]

    def handle(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        body: list[tuple[str, str]],
        headers: dict[str, str],
    ) -> ApiResponse:
        request_id = objects.new_id("req_", 14)
        base_headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        idem_key = headers.get("idempotency-key") if method == "POST" else None
        if idem_key is not None and not idem_key.strip():
            idem_key = None  # an empty header is no key, so it is never stored and replayed as one
        if idem_key is not None:
            base_headers["Idempotency-Key"] = idem_key
        try:
            self._auth(headers.get("authorization"))
            # HEAD is GET without the body (``_send`` drops it).
            handler, args = self._route("GET" if method == "HEAD" else method, path)
            params = Params(parse_pairs(body if method == "POST" else query))
            ctx = RequestCtx(request_id, idem_key)
            if idem_key is None:
                try:
                    obj = self._execute(handler, params, ctx, args, method)
                except ApiError:
                    raise
                except Exception:
                    log.exception("internal error on %s %s", method, path)
                    return ApiResponse(500, _dump(_internal_error(request_id)), base_headers)
                return ApiResponse(200, _dump(obj), base_headers)
            return self._idempotent(method, path, body, idem_key, handler, params, ctx, args,
                                    base_headers)  # fmt: skip
        except ApiError as exc:
            return ApiResponse(exc.status, _dump(exc.body()), base_headers)

    def _execute(
        self, handler: Handler, params: Params, ctx: RequestCtx, args: list[str], method: str
    ) -> Obj:
        obj = handler(self.engine, params, ctx, args)
        if method == "POST" and self.engine.take_api_fault():
            # ``/_sandbox/api/fail_next``: the request ran (its effects are committed), then
            # the server failed: the case idempotency keys exist for.
            raise RuntimeError("simulated internal error (/_sandbox/api/fail_next)")
        return obj

    def _auth(self, header: str | None) -> None:
        key: str | None = None
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "bearer":
                key = value.strip()
            elif scheme.lower() == "basic":
                try:
                    key = base64.b64decode(value).decode("utf-8").partition(":")[0]
                except (ValueError, UnicodeDecodeError):
                    key = None
        if not key:
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details,"
                " or we can help at https://support.stripe.com/.",
            )
        if not hmac.compare_digest(key.encode(), self.engine.config.secret_key.encode()):
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "***"
            raise ApiError(401, f"Invalid API Key provided: {masked}", code="api_key_invalid")

    def _route(self, method: str, path: str) -> tuple[Handler, list[str]]:
        allowed = False
        for m, pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                if m == method:
                    return handler, [path_segment(g) for g in match.groups()]
                allowed = True
        if allowed:
            raise ApiError(
                404,
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        raise ApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
        )

    def _idempotent(
        self,
        method: str,
        path: str,
        body: list[tuple[str, str]],
        key: str,
        handler: Handler,
        params: Params,
        ctx: RequestCtx,
        args: list[str],
        headers: dict[str, str],
    ) -> ApiResponse:
        store = self.engine.store
        if len(key) > 255:
            raise invalid("Idempotency-Key", "Idempotency keys can be at most 255 characters.")
        fingerprint = hashlib.sha256(
            json.dumps([method, path, sorted(body)]).encode("utf-8")
        ).hexdigest()
        now = self.engine.now_f()  # keys expire on the sandbox clock, so tests can age them
        with store.lock:
            store.idem_prune(now - IDEMPOTENCY_TTL)
            found = store.idem_get(key)
            if found is not None:
                fp, state, status, stored, _created = found
                if fp != fingerprint:
                    raise ApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                if state != "done" or status is None or stored is None:
                    raise ApiError(
                        409,
                        "There is currently another in-progress request using this Idempotent "
                        "Key (that probably means you submitted twice, and the other request is "
                        "still going through): " + key + ". Please try again later.",
                        type="idempotency_error",
                    )
                replay = dict(headers)
                replay["Idempotent-Replayed"] = "true"
                return ApiResponse(status, stored.encode("utf-8"), replay)
            store.idem_begin(key, fingerprint, now)
        # Stripe stores whatever the request produced once it began to execute, failures and
        # 500s included; only requests rejected before execution (validation) are not stored.
        try:
            obj = self._execute(handler, params, ctx, args, method)
        except ApiError as exc:
            if exc.store_idempotent:
                store.idem_finish(key, exc.status, _dump(exc.body()).decode())
            else:
                store.idem_drop(key)
            raise
        except Exception:
            log.exception("internal error on %s %s", method, path)
            failed = _dump(_internal_error(ctx.request_id))
            store.idem_finish(key, 500, failed.decode("utf-8"))
            return ApiResponse(500, failed, headers)
        except BaseException:
            store.idem_drop(key)
            raise
        payload = _dump(obj)
        store.idem_finish(key, 200, payload.decode("utf-8"))
        return ApiResponse(200, payload, headers)


def path_segment(raw: str) -> str:
    """One ``%``-decoded path segment. The SDK ``quote_plus``-es ids (``SAVE 10`` ->
    ``SAVE+10``, ``a+b`` -> ``a%2Bb``), so ``+`` is a space; ids were matched undecoded and a
    coupon ``SAVE 10`` could never be retrieved. Segments are split before decoding, so a
    ``%2F`` stays inside its segment."""
    try:
        return unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        raise ApiError(400, "Invalid request: the URL path is not valid UTF-8.") from None


def _internal_error(request_id: str | None) -> Obj:
    return {
        "error": {
            "type": "api_error",
            "message": "An unknown error occurred while processing your request"
            + (f" (request {request_id})." if request_id else "."),
        }
    }


# -- expansion -------------------------------------------------------------------------------
def expand(engine: Engine, obj: Obj, paths: list[str], *, param: str = "expand") -> Obj:
    out = public(copy.deepcopy(obj))
    for path in paths:
        parts = path.split(".")
        if len(parts) > 4:
            raise invalid(param, f"You cannot expand more than 4 levels of a property ({path}).")
        _expand_into(engine, out, obj, parts, path, param)
    return out


def _expand_into(
    engine: Engine, target: Obj, source: Obj, parts: list[str], path: str, param: str
) -> None:
    key, rest = parts[0], parts[1:]
    if target.get("object") == "list" and key == "data":
        for item in target["data"]:
            if rest and isinstance(item, dict):
                raw = engine.store.get(str(item.get("id"))) or item
                _expand_into(engine, item, raw, rest, path, param)
        return
    if target.get("object") == "checkout.session" and key == "line_items":
        include: set[str] = set()
        if rest:
            include.add(_line_item_expansion(rest, path, param))
        existing = target.get("line_items")
        if isinstance(existing, dict):  # expand[]=line_items&expand[]=line_items.data.taxes
            for item, fresh in zip(
                existing["data"],
                _line_items_list(engine, target["id"], include)["data"],
                strict=True,
            ):
                for k in include:
                    field_name = k.partition(".")[0]  # "price.product" -> "price"
                    item[field_name] = fresh[field_name]
        else:
            target["line_items"] = _line_items_list(engine, target["id"], include)
        return
    if target.get("object") == "checkout.session" and parts == ["total_details", "breakdown"]:
        row = engine.store.get_row(target["id"], "checkout.session")
        if row is not None and isinstance(target.get("total_details"), dict):
            target["total_details"]["breakdown"] = public(
                copy.deepcopy(row.extra.get("breakdown") or {"discounts": [], "taxes": []})
            )
        return
    if target.get("object") == "item" and key in ("taxes", "discounts"):
        target[key] = public_list(list(source.get(f"_{key}") or []))
        return
    if target.get("object") == "price" and key == "product":
        target["product"] = public(copy.deepcopy(source.get("_product") or {}))
        return
    if key not in target:
        raise _not_expandable(path, param)
    value = target[key]
    if value is None:
        return
    if isinstance(value, str):
        found = engine.store.get(value)
        if found is None:
            raise _not_expandable(path, param)
        target[key] = public(copy.deepcopy(found))
        if rest:
            _expand_into(engine, target[key], found, rest, path, param)
        return
    if isinstance(value, dict) and rest:
        inner = source.get(key)
        _expand_into(engine, value, inner if isinstance(inner, dict) else value, rest, path, param)
        return
    raise _not_expandable(path, param)


def _line_item_expansion(parts: list[str], path: str, param: str) -> str:
    """``data.taxes`` / ``data.discounts`` / ``data.price.product`` -> what to include."""
    if parts in (["data", "taxes"], ["data", "discounts"]):
        return parts[1]
    if parts == ["data", "price", "product"]:
        return "price.product"
    raise _not_expandable(path, param)


def _not_expandable(path: str, param: str) -> ApiError:
    return invalid(param, f"This property cannot be expanded ({path}).")


def _line_items_list(
    engine: Engine,
    cs_id: str,
    include: set[str],
    limit: int = 100,
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> Obj:
    row = engine.store.get_row(cs_id, "checkout.session")
    if row is None:
        raise no_such("checkout.session", cs_id, "session")
    items: list[Obj] = list(row.extra.get("line_items") or [])
    if starting_after is not None:
        ids = [i["id"] for i in items]
        if starting_after not in ids:
            raise no_such("item", starting_after, "starting_after", 400)
        items = items[ids.index(starting_after) + 1 :]
        page = items[:limit]
    elif ending_before is not None:
        ids = [i["id"] for i in items]
        if ending_before not in ids:
            raise no_such("item", ending_before, "ending_before", 400)
        items = items[: ids.index(ending_before)]
        page = items[-limit:]
    else:
        page = items[:limit]
    data = []
    for item in page:
        out = public(copy.deepcopy(item))
        for key in include - {"price.product"}:
            out[key] = public_list(list(item.get(f"_{key}") or []))
        if "price.product" in include:
            out["price"]["product"] = public(copy.deepcopy(item["price"].get("_product") or {}))
        data.append(out)
    return {
        "object": "list",
        "data": data,
        "has_more": len(items) > len(page),
        "url": f"/v1/checkout/sessions/{cs_id}/line_items",
    }


# -- list helpers --------------------------------------------------------------------------
def _page_args(engine: Engine, p: Params, type_: str) -> tuple[int, int | None, int | None]:
    limit = p.integer("limit", minimum=1, maximum=100)
    after = p.string("starting_after")
    before = p.string("ending_before")
    after_seq = before_seq = None
    if after is not None:
        after_seq = engine.store.seq_of(after)
        if after_seq is None:
            raise no_such(type_, after, "starting_after", 400)
    if before is not None:
        before_seq = engine.store.seq_of(before)
        if before_seq is None:
            raise no_such(type_, before, "ending_before", 400)
    return limit or 10, after_seq, before_seq


def _created_filter(p: Params) -> list[tuple[str, object]]:
    where: list[tuple[str, object]] = []
    raw = p.data.get("created")
    if isinstance(raw, str):
        value = p.integer("created")
        where.append(("created = ?", value))
    elif isinstance(raw, dict):
        sub = p.sub("created")
        assert sub is not None
        sub.check_known({"gt", "gte", "lt", "lte"})
        for op, sql in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            v = sub.integer(op)
            if v is not None:
                where.append((f"created {sql} ?", v))
    return where


def _list(engine: Engine, p: Params, type_: str, url: str, where: list[tuple[str, object]]) -> Obj:
    limit, after, before = _page_args(engine, p, type_)
    items, has_more = engine.store.list_objects(
        type_, where=where, limit=limit, starting_after=after, ending_before=before
    )
    result: Obj = {"object": "list", "data": items, "has_more": has_more, "url": url}
    return expand(engine, result, p.strings("expand"))


# -- handlers -------------------------------------------------------------------------------
def _create_session(engine: Engine, p: Params, ctx: RequestCtx, _args: list[str]) -> Obj:
    expands = p.strings("expand")
    session = engine.create_session(p, ctx)
    return expand(engine, session, expands)


def _get_session(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    session, _extra = engine.session_row(args[0])
    if session["status"] == "open" and session["expires_at"] <= engine.now():
        engine.expire_due()
        session, _extra = engine.session_row(args[0])
    return expand(engine, session, p.strings("expand"))


def _list_sessions(engine: Engine, p: Params, _ctx: RequestCtx, _args: list[str]) -> Obj:
    p.check_known(
        {"limit", "starting_after", "ending_before", "expand", "payment_intent", "status",
         "created", "customer", "customer_details", "payment_link", "subscription"}
    )  # fmt: skip
    where = _created_filter(p)
    pi = p.string("payment_intent")
    if pi is not None:
        where.append(("ref = ?", pi))
    status = p.choice("status", ["open", "complete", "expired"])
    if status is not None:
        where.append(("status = ?", status))
    return _list(engine, p, "checkout.session", "/v1/checkout/sessions", where)


def _line_items(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"limit", "starting_after", "ending_before", "expand"})
    include = {_line_item_expansion(e.split("."), e, "expand") for e in p.strings("expand")}
    return _line_items_list(
        engine,
        args[0],
        include,
        p.integer("limit", minimum=1, maximum=100) or 10,
        p.string("starting_after"),
        p.string("ending_before"),
    )


def _expire_session(engine: Engine, p: Params, ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    return expand(engine, engine.expire_session(args[0], ctx), p.strings("expand"))


def _create_coupon(engine: Engine, p: Params, _ctx: RequestCtx, _args: list[str]) -> Obj:
    return expand(engine, engine.create_coupon(p), p.strings("expand"))


def _get_coupon(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    coupon = engine.coupon_view(engine.get_obj(args[0], "coupon", "coupon"))
    return expand(engine, coupon, p.strings("expand"))


def _create_tax_rate(engine: Engine, p: Params, _ctx: RequestCtx, _args: list[str]) -> Obj:
    return expand(engine, engine.create_tax_rate(p), p.strings("expand"))


def _get_tax_rate(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    return expand(engine, engine.get_obj(args[0], "tax_rate", "tax_rate"), p.strings("expand"))


def _get_pi(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand", "client_secret"})
    pi = engine.get_obj(args[0], "payment_intent", "intent")
    secret = p.string("client_secret")
    if secret is not None and secret != pi["client_secret"]:
        raise invalid("client_secret", "The client_secret provided does not match.")
    return expand(engine, pi, p.strings("expand"))


def _update_pi(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    expands = p.strings("expand")
    return expand(engine, engine.update_payment_intent(args[0], p), expands)


def _get_charge(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    return expand(engine, engine.get_obj(args[0], "charge", "charge"), p.strings("expand"))


def _create_refund(engine: Engine, p: Params, ctx: RequestCtx, _args: list[str]) -> Obj:
    expands = p.strings("expand")
    return expand(engine, engine.create_refund(p, ctx), expands)


def _get_refund(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    return expand(engine, engine.get_obj(args[0], "refund", "refund"), p.strings("expand"))


def _get_event(engine: Engine, p: Params, _ctx: RequestCtx, args: list[str]) -> Obj:
    p.check_known({"expand"})
    return expand(engine, engine.get_obj(args[0], "event", "id"), p.strings("expand"))


def _list_events(engine: Engine, p: Params, _ctx: RequestCtx, _args: list[str]) -> Obj:
    p.check_known(
        {"limit", "starting_after", "ending_before", "expand", "type", "types", "created",
         "delivery_success"}
    )  # fmt: skip
    where = _created_filter(p)
    event_type = p.string("type")
    types = p.strings("types")
    if event_type is not None and types:
        raise invalid("types", "You may pass either type or types, but not both.")
    if event_type is not None:
        if "*" in event_type:
            where.append(("json_extract(data, '$.type') LIKE ?", event_type.replace("*", "%")))
        else:
            where.append(("json_extract(data, '$.type') = ?", event_type))
    elif types:
        placeholders = " OR ".join("json_extract(data, '$.type') = ?" for _ in types)
        # one value per placeholder: expand into several clauses joined by OR
        where.append((f"({placeholders})", _Multi(types)))
    if p.string("delivery_success") is not None:
        # Stripe: true = every endpoint acknowledged the event; false = still pending or failed
        # at some endpoint. ``pending_webhooks`` counts exactly those (0 once delivered).
        if p.boolean("delivery_success"):
            where.append(("json_extract(data, '$.pending_webhooks') = 0", _Multi()))
        else:
            where.append(("json_extract(data, '$.pending_webhooks') > 0", _Multi()))
    return _list(engine, p, "event", "/v1/events", where)


class _Multi(list[str]):
    """Marks a where-clause value that binds several placeholders."""


def node_to_str(node: Node) -> str:
    return node if isinstance(node, str) else json.dumps(node)
