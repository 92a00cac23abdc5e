"""The sandbox's business logic: Stripe state transitions and the events they emit.

All mutations run inside ``store.tx()`` (one lock, one SQLite transaction), so a session can
never be paid twice, however many tabs, clicks or API calls race.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

from . import objects
from .errors import ApiError, invalid, missing, no_such
from .forms import Params
from .money import (
    MAX_AMOUNT,
    SUPPORTED_CURRENCIES,
    ZERO_DECIMAL,
    CouponIn,
    LineIn,
    TaxRateIn,
    charge_limit_error,
    session_amounts,
)
from .store import Obj, Store

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
IDEMPOTENCY_TTL = 24 * 60 * 60
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Config:
    secret_key: str
    webhook_url: str | None
    webhook_secret: str
    public_url: str
    retry_schedule: list[float] = field(default_factory=lambda: [1.0, 2.0, 4.0, 8.0, 16.0])
    delivery_timeout: float = 10.0
    clock_offset: float = 0.0
    sign_time_offset: float = 0.0
    paused: bool = False
    fail_next: int = 0
    fail_mode: str = "500"
    api_fail_next: int = 0  # the next N API POSTs fail with a 500 after they ran
    expiry_interval: float = 0.25

    def public(self) -> Obj:
        return {
            "webhook_url": self.webhook_url,
            "webhook_secret_set": bool(self.webhook_secret),
            "public_url": self.public_url,
            "retry_schedule": self.retry_schedule,
            "delivery_timeout": self.delivery_timeout,
            "clock_offset": self.clock_offset,
            "sign_time_offset": self.sign_time_offset,
            "paused": self.paused,
            "fail_next": self.fail_next,
            "fail_mode": self.fail_mode,
            "api_fail_next": self.api_fail_next,
        }


@dataclass(frozen=True)
class RequestCtx:
    request_id: str | None = None
    idempotency_key: str | None = None


PAGE_CTX = RequestCtx()


@dataclass(frozen=True)
class Card:
    number: str
    brand: str
    funding: str
    outcome: str  # "success" | "decline" | "3ds"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


_DECLINED = "Your card was declined."
CARDS: dict[str, Card] = {
    c.number: c
    for c in [
        Card("4242424242424242", "visa", "credit", "success"),
        Card("4000056655665556", "visa", "debit", "success"),
        Card("5555555555554444", "mastercard", "credit", "success"),
        Card("378282246310005", "amex", "credit", "success"),
        Card(
            "4000000000000002", "visa", "credit", "decline", "card_declined", "generic_decline",
            _DECLINED,
        ),
        Card(
            "4000000000009995", "visa", "credit", "decline", "card_declined",
            "insufficient_funds", "Your card has insufficient funds.",
        ),
        Card(
            "4000000000000341", "visa", "credit", "decline", "card_declined", "generic_decline",
            _DECLINED,
        ),
        Card(
            "4000000000000069", "visa", "credit", "decline", "expired_card", "expired_card",
            "Your card has expired.",
        ),
        Card(
            "4000000000000127", "visa", "credit", "decline", "incorrect_cvc", "incorrect_cvc",
            "Your card's security code is incorrect.",
        ),
        Card(
            "4000000000000119", "visa", "credit", "decline", "processing_error",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
        Card("4000002500003155", "visa", "credit", "3ds"),
        Card("4000002760003184", "visa", "credit", "3ds"),
    ]
}  # fmt: skip
AUTH_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


BANK_METHODS = {"eur": "sepa_debit", "usd": "us_bank_account"}


def bank_method_for(currency: str) -> str | None:
    """The bank debit a session in ``currency`` can offer: SEPA in eur, US bank accounts in
    usd, none otherwise (``us_bank_account`` was offered for gbp, jpy, ...)."""
    return BANK_METHODS.get(currency)


@dataclass
class PayResult:
    outcome: str  # succeeded | declined | requires_action | processing | not_open
    message: str | None = None
    redirect_url: str | None = None
    decline_code: str | None = None


EmitHook = Callable[[str], None]


class Engine:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.on_event: EmitHook | None = None  # set by the webhook worker
        self._stop = threading.Event()
        self._expirer: threading.Thread | None = None

    # -- clock ----------------------------------------------------------------------------
    def now(self) -> int:
        return int(time.time() + self.config.clock_offset)

    def now_f(self) -> float:
        return time.time() + self.config.clock_offset

    def take_api_fault(self) -> bool:
        """Consume one injected API failure (``/_sandbox/api/fail_next``), if any is armed."""
        with self.store.lock:
            if self.config.api_fail_next > 0:
                self.config.api_fail_next -= 1
                return True
        return False

    # -- events ---------------------------------------------------------------------------
    def emit(
        self,
        event_type: str,
        obj: Obj,
        ctx: RequestCtx,
        previous_attributes: Obj | None = None,
    ) -> Obj:
        evt = objects.event(
            event_type=event_type,
            created=self.now(),
            data_object=public(copy.deepcopy(obj)),
            previous_attributes=previous_attributes,
            request_id=ctx.request_id,
            idempotency_key=ctx.idempotency_key,
            pending_webhooks=1 if self.config.webhook_url else 0,
        )
        with self.store.tx():
            self.store.put(evt)
            self.store.add_delivery(evt["id"], time.time())
        if self.on_event is not None:
            self.on_event(evt["id"])
        return evt

    # -- lookups --------------------------------------------------------------------------
    def session_row(self, cs_id: str, param: str = "session") -> tuple[Obj, Obj]:
        row = self.store.get_row(cs_id, "checkout.session")
        if row is None:
            raise no_such("checkout.session", cs_id, param)
        return row.data, row.extra

    def save_session(self, session: Obj, extra: Obj | None = None) -> None:
        if session["status"] != "open":
            session["url"] = None  # as on Stripe: a finished session has no payment page
        self.store.put(
            session,
            status=session["status"],
            expires_at=int(session["expires_at"]),
            ref=session.get("payment_intent"),
            extra=extra,
        )

    def get_obj(self, obj_id: str, type_: str, param: str, status: int = 404) -> Obj:
        obj = self.store.get(obj_id, type_)
        if obj is None:
            raise no_such(type_, obj_id, param, status)
        return obj

    # -- coupons and tax rates --------------------------------------------------------------
    def create_coupon(self, p: Params) -> Obj:
        p.check_known(
            {
                "id", "amount_off", "currency", "percent_off", "duration", "duration_in_months",
                "name", "metadata", "max_redemptions", "redeem_by", "expand", "applies_to",
                "currency_options",
            }
        )  # fmt: skip
        duration = p.choice("duration", ["once", "forever", "repeating"], default="once")
        assert duration is not None
        amount_off = p.integer("amount_off", minimum=1)
        percent = p.decimal("percent_off")
        if (amount_off is None) == (percent is None):
            raise invalid(
                "percent_off" if amount_off is None else "amount_off",
                "You must pass exactly one of amount_off or percent_off.",
            )
        currency = p.string("currency")
        if amount_off is not None:
            if currency is None:
                raise missing("currency")
            currency = check_currency("currency", currency)
        else:
            currency = None
        if percent is not None and not (Decimal(0) < percent <= Decimal(100)):
            raise invalid("percent_off", "percent_off must be greater than 0 and at most 100.")
        months = p.integer("duration_in_months", minimum=1)
        if duration == "repeating" and months is None:
            raise missing("duration_in_months")
        coupon_id = p.string("id", max_length=200) or objects.new_id("", 8)
        if "/" in coupon_id or any(unicodedata.category(c) == "Cc" for c in coupon_id):
            # Such a coupon could never be fetched: "/" splits the path, control characters
            # cannot be sent in a URL. (Stripe's own rules are stricter and undocumented.)
            raise invalid("id", "Coupon ids cannot contain '/' or control characters.")
        if self.store.get(coupon_id) is not None:
            raise ApiError(
                400, "Coupon already exists.", code="resource_already_exists", param="id"
            )
        coupon = objects.coupon(
            coupon_id=coupon_id,
            created=self.now(),
            duration=duration,
            percent_off=float(percent) if percent is not None else None,
            amount_off=amount_off,
            currency=currency,
            name=p.string("name", max_length=40),
            metadata=p.metadata() or {},
            max_redemptions=p.integer("max_redemptions", minimum=1),
            redeem_by=p.integer("redeem_by"),
            duration_in_months=months if duration == "repeating" else None,
        )
        with self.store.tx():
            self.store.put(coupon, extra={"percent_off": str(percent) if percent else None})
        return self.coupon_view(coupon)

    def coupon_view(self, coupon: Obj) -> Obj:
        """The coupon as Stripe shows it now: ``valid`` is false once ``redeem_by`` has
        passed on the sandbox clock (``max_redemptions`` clears it when stored)."""
        redeem_by = coupon.get("redeem_by")
        if coupon.get("valid") and isinstance(redeem_by, int) and redeem_by <= self.now():
            coupon = {**coupon, "valid": False}
        return coupon

    def create_tax_rate(self, p: Params) -> Obj:
        p.check_known(
            {
                "display_name", "percentage", "inclusive", "active", "country", "description",
                "jurisdiction", "metadata", "state", "tax_type", "expand",
            }
        )  # fmt: skip
        display_name = p.req_str("display_name", max_length=50)
        percentage = p.decimal("percentage", required=True)
        assert percentage is not None
        if not (Decimal(0) <= percentage <= Decimal(100)):
            raise invalid("percentage", "percentage must be between 0 and 100.")
        if "inclusive" not in p.data:
            raise missing("inclusive")
        inclusive = p.boolean("inclusive")
        if inclusive:
            raise invalid(
                "inclusive",
                "The Stripe sandbox supports only exclusive tax rates (inclusive=false).",
            )
        rate = objects.tax_rate(
            created=self.now(),
            percentage=float(percentage),
            display_name=display_name,
            inclusive=inclusive,
            jurisdiction=p.string("jurisdiction", max_length=50),
            description=p.string("description"),
            country=p.string("country"),
            state=p.string("state"),
            tax_type=p.string("tax_type"),
            active=p.boolean("active", default=True),
            metadata=p.metadata() or {},
        )
        with self.store.tx():
            self.store.put(rate, extra={"percentage": str(percentage)})
        return rate

    # -- checkout sessions ------------------------------------------------------------------
    SESSION_PARAMS = frozenset(
        {
            "mode", "line_items", "discounts", "shipping_options", "customer_email",
            "client_reference_id", "metadata", "payment_intent_data", "success_url",
            "cancel_url", "expires_at", "expand", "payment_method_types", "locale",
            "submit_type", "ui_mode", "currency", "allow_promotion_codes",
            "billing_address_collection", "customer_creation", "phone_number_collection",
            "shipping_address_collection", "automatic_tax", "consent_collection",
            "custom_text", "invoice_creation", "payment_method_options",
            "allowed_payment_method_types", "excluded_payment_method_types",
            "adaptive_pricing", "customer", "tax_id_collection", "return_url",
            "redirect_on_completion", "payment_method_collection",
        }
    )  # fmt: skip

    def create_session(self, p: Params, ctx: RequestCtx) -> Obj:
        p.check_known(self.SESSION_PARAMS)
        mode = p.string("mode")
        if mode is None:
            raise missing("mode")
        if mode != "payment":
            raise invalid("mode", "The Stripe sandbox supports only mode=payment.")
        ui_mode = p.string("ui_mode")
        if ui_mode not in (None, "hosted", "hosted_page"):
            raise invalid("ui_mode", "The Stripe sandbox supports only the hosted payment page.")
        success_url = p.string("success_url", max_length=5000)
        if success_url is None:
            raise missing("success_url")
        _check_url("success_url", success_url)
        cancel_url = p.string("cancel_url", max_length=5000)
        if cancel_url is not None:
            _check_url("cancel_url", cancel_url)
        email = p.string("customer_email", max_length=800)
        if email is not None and not _EMAIL_RE.match(email):
            raise invalid("customer_email", f"Invalid email address: {email}", "email_invalid")
        client_ref = p.string("client_reference_id", max_length=200)
        metadata = p.metadata() or {}
        pi_data = p.sub("payment_intent_data")
        pi_metadata: dict[str, str] = {}
        pi_description: str | None = None
        if pi_data is not None:
            pi_data.check_known(
                {
                    "metadata", "description", "receipt_email", "statement_descriptor",
                    "statement_descriptor_suffix", "capture_method", "setup_future_usage",
                    "shipping", "transfer_group",
                }
            )  # fmt: skip
            pi_metadata = pi_data.metadata() or {}
            pi_description = pi_data.string("description")
            pi_data.choice("capture_method", ["automatic", "automatic_async"])
        now = self.now()
        expires_at = p.integer("expires_at")
        if expires_at is None:
            expires_at = now + MAX_EXPIRY
        elif expires_at < now + MIN_EXPIRY - 5:
            raise invalid(
                "expires_at",
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                "creation.",
            )
        elif expires_at > now + MAX_EXPIRY + 5:
            raise invalid(
                "expires_at",
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                "creation.",
            )
        locale = p.string("locale")
        submit_type = p.choice("submit_type", ["auto", "book", "donate", "pay", "subscribe"])

        items = p.items("line_items")
        if not items:
            raise missing("line_items")
        if len(items) > 100:
            raise invalid("line_items", "You can have at most 100 line items.")
        currency: str | None = None
        lines: list[LineIn] = []
        built: list[tuple[str, Obj, int, list[Obj]]] = []  # description, price, qty, rates
        for item in items:
            item.check_known(
                {"price", "price_data", "quantity", "tax_rates", "adjustable_quantity",
                 "dynamic_tax_rates", "metadata"}
            )  # fmt: skip
            price_id = item.string("price")
            if price_id is not None:
                raise no_such("price", price_id, item.name("price"), 400)
            pd = item.sub("price_data", required=True)
            assert pd is not None
            pd.check_known(
                {"currency", "unit_amount", "unit_amount_decimal", "product_data", "product",
                 "tax_behavior", "recurring"}
            )  # fmt: skip
            if pd.has("recurring"):
                raise invalid(pd.name("recurring"), "Recurring prices need mode=subscription.")
            cur = check_currency(pd.name("currency"), pd.req_str("currency"))
            if currency is None:
                currency = cur
            elif cur != currency:
                raise invalid(
                    pd.name("currency"),
                    "All line items must use the same currency.",
                )
            unit_amount = pd.integer("unit_amount", minimum=0, maximum=MAX_AMOUNT)
            # unit_amount_decimal gets the same range check as unit_amount, so a negative or
            # huge value cannot give negative or huge totals.
            dec = pd.decimal_string(
                "unit_amount_decimal", minimum=Decimal(0), maximum=Decimal(MAX_AMOUNT)
            )
            if unit_amount is not None and dec is not None:
                raise invalid(
                    pd.name("unit_amount_decimal"),
                    "You may only specify one of these parameters: unit_amount, "
                    "unit_amount_decimal.",
                )
            if unit_amount is None:
                if dec is None:
                    raise missing(pd.name("unit_amount"))
                if dec != dec.to_integral_value():
                    raise invalid(
                        pd.name("unit_amount_decimal"),
                        "The sandbox supports only whole minor units.",
                    )
                unit_amount = int(dec)
            product_id = pd.string("product")
            if product_id is not None:
                raise no_such("product", product_id, pd.name("product"), 400)
            prod = pd.sub("product_data", required=True)
            assert prod is not None
            prod.check_known(
                {"name", "description", "images", "metadata", "tax_code", "unit_label"}
            )
            name = prod.req_str("name", max_length=250)
            quantity = item.integer("quantity", minimum=1, maximum=999999)
            if quantity is None:
                raise missing(item.name("quantity"))
            rates: list[Obj] = []
            rate_ins: list[TaxRateIn] = []
            rate_ids = item.strings("tax_rates")
            for i, rate_id in enumerate(rate_ids):
                rate_row = self.store.get_row(rate_id, "tax_rate")
                if rate_row is None:
                    raise no_such("tax_rate", rate_id, f"{item.name('tax_rates')}[{i}]", 400)
                if not rate_row.data["active"]:
                    raise invalid(
                        f"{item.name('tax_rates')}[{i}]", f"Tax rate {rate_id} is not active."
                    )
                rates.append(rate_row.data)
                rate_ins.append(TaxRateIn(rate_id, Decimal(str(rate_row.extra["percentage"]))))
            created = now
            product_obj = objects.product(
                created=created,
                name=name,
                description=prod.string("description"),
                images=prod.strings("images"),
                metadata=prod.metadata() or {},
            )
            price_obj = objects.price(
                created=created,
                currency=cur,
                unit_amount=unit_amount,
                product_id=product_obj["id"],
                metadata={},
            )
            price_obj["_product"] = product_obj
            lines.append(LineIn(unit_amount, quantity, tuple(rate_ins)))
            built.append((name, price_obj, quantity, rates))
        assert currency is not None
        session_currency = p.string("currency")
        if session_currency is not None:
            session_currency = check_currency("currency", session_currency)
        if session_currency is not None and session_currency != currency:
            raise invalid("currency", "currency must match the line items' currency.")

        # discounts
        coupon_in: CouponIn | None = None
        discounts: list[Obj] = []
        coupon_obj: Obj | None = None
        disc_items = p.items("discounts")
        if len(disc_items) > 1:
            raise invalid("discounts", "You may only specify one discount per Checkout Session.")
        if disc_items and p.boolean("allow_promotion_codes"):
            raise invalid(
                "discounts",
                "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            )
        for d in disc_items:
            d.check_known({"coupon", "promotion_code"})
            promo = d.string("promotion_code")
            if promo is not None:
                raise no_such("promotion_code", promo, d.name("promotion_code"), 400)
            coupon_id = d.req_str("coupon")
            row = self.store.get_row(coupon_id, "coupon")
            if row is None:
                raise no_such("coupon", coupon_id, d.name("coupon"), 400)
            coupon_obj = row.data
            if not self.coupon_view(coupon_obj)["valid"]:  # used up, or past redeem_by
                raise invalid(d.name("coupon"), f"Coupon {coupon_id} is no longer valid.")
            if coupon_obj["amount_off"] is not None:
                if coupon_obj["currency"] != currency:
                    raise invalid(
                        d.name("coupon"),
                        f"The coupon {coupon_id} is in {coupon_obj['currency']}, but this "
                        f"Checkout Session is in {currency}.",
                    )
                coupon_in = CouponIn(amount_off=int(coupon_obj["amount_off"]))
            else:
                coupon_in = CouponIn(percent_off=Decimal(str(row.extra["percent_off"])))
            discounts.append({"coupon": coupon_id, "promotion_code": None})

        # shipping
        ship_items = p.items("shipping_options")
        if len(ship_items) > 5:
            raise invalid("shipping_options", "You can provide at most 5 shipping options.")
        shipping_rates: list[Obj] = []
        for s in ship_items:
            s.check_known({"shipping_rate", "shipping_rate_data"})
            shr = s.string("shipping_rate")
            if shr is not None:
                raise no_such("shipping_rate", shr, s.name("shipping_rate"), 400)
            srd = s.sub("shipping_rate_data", required=True)
            assert srd is not None
            srd.check_known(
                {"type", "fixed_amount", "display_name", "delivery_estimate", "tax_behavior",
                 "tax_code", "metadata"}
            )  # fmt: skip
            srd.choice("type", ["fixed_amount"])
            fixed = srd.sub("fixed_amount", required=True)
            assert fixed is not None
            fixed.check_known({"amount", "currency", "currency_options"})
            amount = fixed.req_int("amount", minimum=0)
            ship_cur = fixed.req_str("currency").lower()
            if ship_cur != currency:
                raise invalid(
                    fixed.name("currency"),
                    "The shipping rate currency must match the Checkout Session currency.",
                )
            estimate: Obj | None = None
            est = srd.sub("delivery_estimate")
            if est is not None:
                est.check_known({"minimum", "maximum"})
                estimate = {"maximum": None, "minimum": None}
                for bound in ("minimum", "maximum"):
                    b = est.sub(bound)
                    if b is not None:
                        b.check_known({"unit", "value"})
                        unit = b.choice("unit", ["business_day", "day", "hour", "month", "week"])
                        if unit is None:
                            raise missing(b.name("unit"))
                        estimate[bound] = {"unit": unit, "value": b.req_int("value", minimum=1)}
            tax_behavior = srd.choice(
                "tax_behavior", ["exclusive", "inclusive", "unspecified"], default="unspecified"
            )
            assert tax_behavior is not None
            shipping_rates.append(
                objects.shipping_rate(
                    created=now,
                    display_name=srd.req_str("display_name", max_length=100),
                    amount=amount,
                    currency=currency,
                    delivery_estimate=estimate,
                    tax_behavior=tax_behavior,
                    tax_code=srd.string("tax_code"),
                    metadata=srd.metadata() or {},
                )
            )
        shipping_amount = shipping_rates[0]["fixed_amount"]["amount"] if shipping_rates else 0

        # payment methods
        types = p.strings("payment_method_types") or p.strings("allowed_payment_method_types")
        bank = bank_method_for(currency)
        for i, t in enumerate(types):
            if t not in ("card", "us_bank_account", "sepa_debit"):
                raise invalid(
                    f"payment_method_types[{i}]",
                    f"The sandbox does not support the payment method type {t}.",
                )
            if t != "card" and t != bank:
                raise invalid(
                    f"payment_method_types[{i}]",
                    f"The payment method type {t} cannot be used with currency {currency}.",
                )
        if not types:
            types = ["card", bank] if bank else ["card"]

        totals = session_amounts(lines, coupon_in, shipping_amount)
        limit_error = charge_limit_error(totals.amount_total, currency)
        if limit_error is not None:
            too_small = totals.amount_total < MAX_AMOUNT
            raise ApiError(
                400, limit_error, code="amount_too_small" if too_small else "amount_too_large"
            )
        cs_id = objects.session_id()
        line_objs: list[Obj] = []
        for (name, price_obj, qty, rates), out in zip(built, totals.lines, strict=True):
            taxes = [
                {
                    "amount": t.amount,
                    "rate": rate,
                    "taxability_reason": None,
                    "taxable_amount": t.taxable_amount,
                }
                for t, rate in zip(out.taxes, rates, strict=True)
            ]
            line_discounts = (
                [{"amount": out.amount_discount, "discount": _discount(coupon_obj, cs_id, now)}]
                if coupon_obj is not None
                else []
            )
            line_objs.append(
                objects.line_item(
                    description=name,
                    currency=currency,
                    price_obj=price_obj,
                    quantity=qty,
                    amount_subtotal=out.amount_subtotal,
                    amount_discount=out.amount_discount,
                    amount_tax=out.amount_tax,
                    amount_total=out.amount_total,
                    taxes=taxes,
                    discounts=line_discounts,
                )
            )
        shipping_cost: Obj | None = None
        if shipping_rates:
            shipping_cost = {
                "amount_subtotal": shipping_amount,
                "amount_tax": 0,
                "amount_total": shipping_amount,
                "shipping_rate": shipping_rates[0]["id"],
            }
        session = objects.checkout_session(
            cs_id=cs_id,
            created=now,
            expires_at=expires_at,
            url=f"{self.config.public_url}/c/pay/{cs_id}",
            currency=currency,
            mode=mode,
            success_url=success_url,
            cancel_url=cancel_url,
            customer_email=email,
            client_reference_id=client_ref,
            metadata=metadata,
            payment_method_types=types,
            amount_subtotal=totals.amount_subtotal,
            amount_total=totals.amount_total,
            amount_discount=totals.amount_discount,
            amount_shipping=totals.amount_shipping,
            amount_tax=totals.amount_tax,
            discounts=discounts,
            shipping_cost=shipping_cost,
            shipping_options=[
                {"shipping_amount": r["fixed_amount"]["amount"], "shipping_rate": r["id"]}
                for r in shipping_rates
            ],
            locale=locale,
            submit_type=submit_type,
        )
        if totals.amount_total == 0:
            # Nothing to collect (a 100% coupon, free items): Stripe never creates a
            # PaymentIntent and the session completes as ``no_payment_required``.
            session["payment_status"] = "no_payment_required"
        breakdown = {
            "discounts": (
                [
                    {
                        "amount": totals.amount_discount,
                        "discount": _discount(coupon_obj, cs_id, now),
                    }
                ]
                if coupon_obj is not None
                else []
            ),
            "taxes": [
                {
                    "amount": tax,
                    "rate": self.store.get(rate_id),
                    "taxability_reason": None,
                    "taxable_amount": taxable,
                }
                for rate_id, (tax, taxable) in totals.tax_by_rate.items()
            ],
        }
        extra: Obj = {
            "line_items": line_objs,
            "breakdown": breakdown,
            "pi_metadata": pi_metadata,
            "pi_description": pi_description,
        }
        with self.store.tx():
            for r in shipping_rates:
                self.store.put(r)
            self.save_session(session, extra)
        return session

    def expire_session(self, cs_id: str, ctx: RequestCtx, *, param: str = "session") -> Obj:
        with self.store.tx():
            session, extra = self.session_row(cs_id, param)
            if session["status"] != "open":
                raise ApiError(
                    400,
                    'Only Checkout Sessions with a status in ["open"] can be expired. This '
                    f'Checkout Session has a status of "{session["status"]}".',
                )
            return self._expire(session, extra, ctx)

    def _expire(self, session: Obj, extra: Obj, ctx: RequestCtx) -> Obj:
        session["status"] = "expired"
        pi_id = session.get("payment_intent")
        if isinstance(pi_id, str):
            pi = self.store.get(pi_id, "payment_intent")
            if pi is not None and pi["status"] not in ("succeeded", "canceled"):
                pi["status"] = "canceled"
                pi["canceled_at"] = self.now()
                pi["cancellation_reason"] = "abandoned"
                pi["next_action"] = None
                self.store.put(pi)
        self.save_session(session, extra)
        self.emit("checkout.session.expired", session, ctx)
        return session

    def expire_due(self) -> int:
        """Expire every open session past ``expires_at`` (on the sandbox clock)."""
        count = 0
        for cs_id in self.store.due_expiries(self.now()):
            with self.store.tx():
                session, extra = self.session_row(cs_id)
                if session["status"] == "open" and session["expires_at"] <= self.now():
                    self._expire(session, extra, PAGE_CTX)
                    count += 1
        return count

    def start_expirer(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.config.expiry_interval):
                try:
                    self.expire_due()
                except Exception:
                    import logging

                    logging.getLogger(__name__).exception("expiry sweep failed")

        self._expirer = threading.Thread(target=loop, name="sandbox-expirer", daemon=True)
        self._expirer.start()

    def stop(self) -> None:
        self._stop.set()

    # -- paying --------------------------------------------------------------------------
    def _ensure_pi(self, session: Obj, extra: Obj, method_types: list[str]) -> Obj:
        pi_id = session.get("payment_intent")
        if isinstance(pi_id, str):
            pi = self.store.get(pi_id, "payment_intent")
            if pi is not None:
                return pi
        pi = objects.payment_intent(
            created=self.now(),
            amount=int(session["amount_total"]),
            currency=str(session["currency"]),
            metadata=dict(extra.get("pi_metadata") or {}),
            payment_method_types=method_types,
            receipt_email=None,
            description=extra.get("pi_description"),
        )
        session["payment_intent"] = pi["id"]
        self.store.put(pi, ref=session["id"])
        return pi

    def _customer_details(
        self, email: str, name: str | None, country: str | None, postal: str | None
    ) -> Obj:
        return {
            "address": {
                "city": None,
                "country": country,
                "line1": None,
                "line2": None,
                "postal_code": postal,
                "state": None,
            },
            "business_name": None,
            "email": email,
            "individual_name": None,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }

    def success_redirect(self, session: Obj) -> str:
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])

    def open_session_for_payment(self, cs_id: str) -> tuple[Obj, Obj] | None:
        session, extra = self.session_row(cs_id)
        if session["status"] == "open" and session["expires_at"] <= self.now():
            self._expire(session, extra, PAGE_CTX)
        if session["status"] != "open":
            return None
        return session, extra

    def pay_card(
        self,
        cs_id: str,
        *,
        number: str,
        exp_month: int,
        exp_year: int,
        email: str,
        name: str | None,
        country: str | None,
        postal_code: str | None,
    ) -> PayResult:
        number = re.sub(r"\D", "", number)
        with self.store.tx():
            opened = self.open_session_for_payment(cs_id)
            if opened is None:
                return PayResult("not_open", "This Checkout Session is no longer available.")
            session, extra = opened
            if int(session["amount_total"]) == 0:
                return self._complete_free(session, extra, email, name)
            pi = self._ensure_pi(session, extra, ["card"])
            if pi["status"] == "requires_action":
                return PayResult(
                    "requires_action", redirect_url=f"{self.config.public_url}/c/pay/{cs_id}/3ds"
                )
            card = CARDS.get(number)
            if card is None:
                card = Card(
                    number, "visa", "credit", "decline", "card_declined", "test_mode_live_card",
                    "Your card was declined. Your request was in test mode, but used a non test "
                    "card. For a list of valid test cards, visit: "
                    "https://stripe.com/docs/testing.",
                )  # fmt: skip
            pm_id = objects.new_id("pm_")
            billing = objects.billing_details(
                email=email, name=name, country=country, postal_code=postal_code
            )
            details = objects.card_details(
                brand=card.brand,
                last4=number[-4:],
                exp_month=exp_month,
                exp_year=exp_year,
                funding=card.funding,
            )
            session["customer_details"] = self._customer_details(email, name, country, postal_code)
            extra["payer"] = {
                "pm_id": pm_id,
                "billing": billing,
                "details": details,
                "email": email,
            }
            if card.outcome == "3ds":
                pi["status"] = "requires_action"
                pi["payment_method"] = pm_id
                pi["payment_method_types"] = ["card"]
                url = f"{self.config.public_url}/c/pay/{cs_id}/3ds"
                pi["next_action"] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {"return_url": session["url"], "url": url},
                }
                self.store.put(pi, ref=cs_id)
                self.save_session(session, extra)
                return PayResult("requires_action", redirect_url=url)
            if card.outcome == "decline":
                self._fail_card(session, extra, pi, card.code or "card_declined",
                                card.decline_code, card.message or _DECLINED)  # fmt: skip
                return PayResult("declined", card.message, decline_code=card.decline_code)
            self._succeed(session, extra, pi, "card")
            return PayResult("succeeded", redirect_url=self.success_redirect(session))

    def complete_free(self, cs_id: str, *, email: str, name: str | None = None) -> PayResult:
        """The customer confirms a session that needs no payment (total 0)."""
        with self.store.tx():
            opened = self.open_session_for_payment(cs_id)
            if opened is None:
                return PayResult("not_open", "This Checkout Session is no longer available.")
            session, extra = opened
            if int(session["amount_total"]) != 0:
                return PayResult("declined", "This Checkout Session requires a payment.")
            return self._complete_free(session, extra, email, name)

    def _complete_free(self, session: Obj, extra: Obj, email: str, name: str | None) -> PayResult:
        # No PaymentIntent, no charge, no payment_intent.* events: checkout.session.completed
        # only, with payment_status "no_payment_required".
        session["status"] = "complete"
        session["payment_status"] = "no_payment_required"
        session["customer_details"] = self._customer_details(email, name, None, None)
        for d in session.get("discounts") or []:
            self._redeem(str(d["coupon"]))
        self.save_session(session, extra)
        self.emit("checkout.session.completed", session, PAGE_CTX)
        return PayResult("succeeded", redirect_url=self.success_redirect(session))

    def _fail_card(
        self,
        session: Obj,
        extra: Obj,
        pi: Obj,
        code: str,
        decline_code: str | None,
        message: str,
    ) -> None:
        payer = extra["payer"]
        ch = objects.charge(
            created=self.now(),
            amount=int(pi["amount"]),
            currency=str(pi["currency"]),
            payment_intent_id=pi["id"],
            payment_method_id=payer["pm_id"],
            billing=payer["billing"],
            method_details={"card": payer["details"], "type": "card"},
            status="failed",
            outcome=objects.outcome(paid=False, reason=decline_code),
            failure_code=code,
            failure_message=message,
            receipt_email=None,
            metadata={},
        )
        self.store.put(ch, ref=pi["id"])
        err: Obj = {
            "charge": ch["id"],
            "code": code,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "type": "card_error",
        }
        if decline_code is not None and code == "card_declined":
            err["decline_code"] = decline_code
        pi["status"] = "requires_payment_method"
        pi["last_payment_error"] = err
        pi["latest_charge"] = ch["id"]
        pi["payment_method"] = None
        pi["next_action"] = None
        self.store.put(pi, ref=session["id"])
        self.save_session(session, extra)
        self.emit("payment_intent.payment_failed", pi, PAGE_CTX)

    def _succeed(self, session: Obj, extra: Obj, pi: Obj, method: str) -> None:
        payer = extra["payer"]
        now = self.now()
        if method == "card":
            ch = objects.charge(
                created=now,
                amount=int(pi["amount"]),
                currency=str(pi["currency"]),
                payment_intent_id=pi["id"],
                payment_method_id=payer["pm_id"],
                billing=payer["billing"],
                method_details={"card": payer["details"], "type": "card"},
                status="succeeded",
                outcome=objects.outcome(paid=True),
                failure_code=None,
                failure_message=None,
                receipt_email=None,
                metadata={},
            )
        else:
            ch_row = self.store.get(str(pi["latest_charge"]), "charge")
            assert ch_row is not None
            ch = ch_row
            ch.update(
                status="succeeded",
                paid=True,
                captured=True,
                amount_captured=ch["amount"],
                balance_transaction=objects.new_id("txn_"),
                outcome=objects.outcome(paid=True),
            )
        self.store.put(ch, ref=pi["id"])
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            latest_charge=ch["id"],
            payment_method=payer["pm_id"],
            last_payment_error=None,
            next_action=None,
            processing=None,
        )
        self.store.put(pi, ref=session["id"])
        first_completion = session["status"] == "open"
        session["status"] = "complete"
        session["payment_status"] = "paid"
        for d in session.get("discounts") or []:
            self._redeem(str(d["coupon"]))
        self.save_session(session, extra)
        self.emit("payment_intent.succeeded", pi, PAGE_CTX)
        if first_completion:
            self.emit("checkout.session.completed", session, PAGE_CTX)
        else:
            self.emit("checkout.session.async_payment_succeeded", session, PAGE_CTX)

    def _redeem(self, coupon_id: str) -> None:
        row = self.store.get_row(coupon_id, "coupon")
        if row is None:
            return
        row.data["times_redeemed"] = int(row.data["times_redeemed"]) + 1
        max_r = row.data.get("max_redemptions")
        if isinstance(max_r, int) and row.data["times_redeemed"] >= max_r:
            row.data["valid"] = False
        self.store.put(row.data, extra=row.extra)

    def authenticate(self, cs_id: str, *, success: bool) -> PayResult:
        with self.store.tx():
            opened = self.open_session_for_payment(cs_id)
            if opened is None:
                return PayResult("not_open", "This Checkout Session is no longer available.")
            session, extra = opened
            pi_id = session.get("payment_intent")
            pi = self.store.get(str(pi_id), "payment_intent") if pi_id else None
            if pi is None or pi["status"] != "requires_action":
                return PayResult("declined", "There is no payment waiting for authentication.")
            if success:
                self._succeed(session, extra, pi, "card")
                return PayResult("succeeded", redirect_url=self.success_redirect(session))
            self._fail_card(
                session, extra, pi, "payment_intent_authentication_failure", None, AUTH_FAILED
            )
            return PayResult("declined", AUTH_FAILED)

    def pay_bank_debit(self, cs_id: str, *, email: str, name: str) -> PayResult:
        with self.store.tx():
            opened = self.open_session_for_payment(cs_id)
            if opened is None:
                return PayResult("not_open", "This Checkout Session is no longer available.")
            session, extra = opened
            if int(session["amount_total"]) == 0:
                return self._complete_free(session, extra, email, name)
            method = bank_method_for(str(session["currency"]))
            if method is None or method not in session["payment_method_types"]:
                return PayResult("declined", "Bank debit is not available for this payment.")
            pi = self._ensure_pi(session, extra, [method])
            if pi["status"] == "requires_action":
                return PayResult("declined", "Finish the card authentication first.")
            pm_id = objects.new_id("pm_")
            billing = objects.billing_details(email=email, name=name, country=None,
                                              postal_code=None)  # fmt: skip
            if method == "sepa_debit":
                details: Obj = {
                    "sepa_debit": {
                        "bank_code": "37040044",
                        "branch_code": None,
                        "country": "DE",
                        "fingerprint": objects.new_id("", 16),
                        "last4": "3000",
                        "mandate": objects.new_id("mandate_"),
                    },
                    "type": "sepa_debit",
                }
            else:
                details = {
                    "type": "us_bank_account",
                    "us_bank_account": {
                        "account_holder_type": "individual",
                        "account_type": "checking",
                        "bank_name": "STRIPE TEST BANK",
                        "fingerprint": objects.new_id("", 16),
                        "last4": "6789",
                        "routing_number": "110000000",
                    },
                }
            extra["payer"] = {"pm_id": pm_id, "billing": billing, "details": details,
                              "email": email, "method": method}  # fmt: skip
            ch = objects.charge(
                created=self.now(),
                amount=int(pi["amount"]),
                currency=str(pi["currency"]),
                payment_intent_id=pi["id"],
                payment_method_id=pm_id,
                billing=billing,
                method_details=details,
                status="pending",
                outcome={
                    "advice_code": None,
                    "network_advice_code": None,
                    "network_decline_code": None,
                    "network_status": "approved_by_network",
                    "reason": None,
                    "risk_level": "not_assessed",
                    "seller_message": "Payment complete.",
                    "type": "authorized",
                },
                failure_code=None,
                failure_message=None,
                receipt_email=None,
                metadata={},
            )
            ch["paid"] = False
            self.store.put(ch, ref=pi["id"])
            pi.update(
                status="processing",
                payment_method=pm_id,
                payment_method_types=[method],
                latest_charge=ch["id"],
                last_payment_error=None,
                next_action=None,
            )
            self.store.put(pi, ref=cs_id)
            session["status"] = "complete"
            session["payment_status"] = "unpaid"
            session["customer_details"] = self._customer_details(email, name, None, None)
            self.save_session(session, extra)
            self.emit("checkout.session.completed", session, PAGE_CTX)
            return PayResult("processing", redirect_url=self.success_redirect(session))

    def settle(self, cs_id: str, *, succeed: bool) -> Obj:
        with self.store.tx():
            session, extra = self.session_row(cs_id)
            pi_id = session.get("payment_intent")
            pi = self.store.get(str(pi_id), "payment_intent") if pi_id else None
            if pi is None or pi["status"] != "processing" or session["status"] != "complete":
                raise invalid(
                    "session", "This Checkout Session has no delayed payment waiting to settle."
                )
            if succeed:
                self._succeed(session, extra, pi, "bank")
                return session
            ch = self.store.get(str(pi["latest_charge"]), "charge")
            assert ch is not None
            message = "The customer's bank account could not be debited."
            ch.update(status="failed", failure_code="insufficient_funds", failure_message=message,
                      outcome=objects.outcome(paid=False, reason="insufficient_funds"))  # fmt: skip
            self.store.put(ch, ref=pi["id"])
            pi.update(
                status="requires_payment_method",
                payment_method=None,
                last_payment_error={
                    "charge": ch["id"],
                    "code": "insufficient_funds",
                    "message": message,
                    "type": "card_error",
                },
            )
            self.store.put(pi, ref=cs_id)
            self.save_session(session, extra)
            self.emit("payment_intent.payment_failed", pi, PAGE_CTX)
            self.emit("checkout.session.async_payment_failed", session, PAGE_CTX)
            return session

    # -- payment intents and refunds -------------------------------------------------------
    def update_payment_intent(self, pi_id: str, p: Params) -> Obj:
        p.check_known({"metadata", "description", "expand", "receipt_email"})
        with self.store.tx():
            row = self.store.get_row(pi_id, "payment_intent")
            if row is None:
                raise no_such("payment_intent", pi_id, "intent")
            pi = row.data
            md = p.metadata()
            if md is not None:
                if md == {}:
                    pi["metadata"] = {}
                else:
                    merged = dict(pi["metadata"])
                    for k, v in md.items():
                        if v == "":
                            merged.pop(k, None)
                        else:
                            merged[k] = v
                    pi["metadata"] = merged
            if p.has("description"):
                pi["description"] = p.string("description")
            if p.has("receipt_email"):
                pi["receipt_email"] = p.string("receipt_email")
            self.store.put(pi, ref=self.store_ref(pi_id))
            return pi

    def store_ref(self, obj_id: str) -> str | None:
        with self.store.lock:
            r = self.store.conn.execute(
                "SELECT ref FROM objects WHERE id = ?", (obj_id,)
            ).fetchone()
        return str(r[0]) if r and r[0] is not None else None

    def create_refund(self, p: Params, ctx: RequestCtx) -> Obj:
        p.check_known(
            {"payment_intent", "charge", "amount", "reason", "metadata", "expand",
             "instructions_email", "refund_application_fee", "reverse_transfer", "origin"}
        )  # fmt: skip
        pi_id = p.string("payment_intent")
        ch_id = p.string("charge")
        if pi_id is None and ch_id is None:
            raise missing("payment_intent")
        reason = p.choice("reason", ["duplicate", "fraudulent", "requested_by_customer"])
        metadata = p.metadata() or {}
        amount = p.integer("amount", minimum=1)
        with self.store.tx():
            if pi_id is not None:
                pi = self.get_obj(pi_id, "payment_intent", "payment_intent", 400)
                if pi["status"] != "succeeded" or not pi.get("latest_charge"):
                    raise ApiError(
                        400,
                        f"This PaymentIntent ({pi_id}) does not have a successful charge to "
                        "refund.",
                        param="payment_intent",
                    )
                ch = self.get_obj(str(pi["latest_charge"]), "charge", "charge", 400)
            else:
                assert ch_id is not None
                ch = self.get_obj(ch_id, "charge", "charge", 400)
                if ch["status"] != "succeeded":
                    raise invalid("charge", f"Charge {ch_id} has not succeeded.")
            remaining = int(ch["amount_captured"]) - int(ch["amount_refunded"])
            if remaining <= 0:
                raise ApiError(
                    400,
                    f"Charge {ch['id']} has already been refunded.",
                    code="charge_already_refunded",
                )
            if amount is None:
                amount = remaining
            elif amount > remaining:
                raise ApiError(
                    400,
                    f"Refund amount ({_fmt(amount, ch['currency'])}) is greater than unrefunded "
                    f"amount on charge ({_fmt(remaining, ch['currency'])})",
                    code="amount_too_large",
                    param="amount",
                )
            ref = objects.refund(
                created=self.now(),
                amount=amount,
                currency=str(ch["currency"]),
                charge_id=str(ch["id"]),
                payment_intent_id=str(ch["payment_intent"]),
                reason=reason,
                metadata=metadata,
                payment_method_id=ch.get("payment_method"),
                card=ch["payment_method_details"].get("type") == "card",
            )
            previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
            ch["amount_refunded"] = int(ch["amount_refunded"]) + amount
            ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
            if previous["refunded"] == ch["refunded"]:
                previous.pop("refunded")
            self.store.put(ch, ref=str(ch["payment_intent"]))
            self.store.put(ref, ref=str(ch["payment_intent"]))
            self.emit("charge.refunded", ch, ctx, previous_attributes=previous)
            self.emit("refund.created", ref, ctx)
            return ref


def public(obj: Obj) -> Obj:
    """Drop the sandbox's private keys (``_...``) from an object tree."""
    for key in [k for k in obj if k.startswith("_")]:
        del obj[key]
    for value in obj.values():
        if isinstance(value, dict):
            public(value)
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, dict):
                    public(v)
    return obj


def public_list(items: list[Obj]) -> list[Obj]:
    return [public(copy.deepcopy(i)) for i in items]


def _discount(coupon: Obj | None, cs_id: str, now: int) -> Obj:
    assert coupon is not None
    return {
        "id": f"di_{cs_id[-20:]}",
        "object": "discount",
        "checkout_session": cs_id,
        "coupon": coupon,
        "customer": None,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "start": now,
        "subscription": None,
    }


def _fmt(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def check_currency(param: str, raw: str) -> str:
    """A lowercase ISO code the sandbox can charge in, else 400 naming ``param``."""
    currency = raw.lower()
    if currency not in SUPPORTED_CURRENCIES:
        raise invalid(
            param,
            f"Invalid currency: {raw[:20]}. The Stripe sandbox supports these currencies: "
            f"{', '.join(sorted(SUPPORTED_CURRENCIES))}.",
        )
    return currency


def _check_url(param: str, url: str) -> None:
    parts = urlsplit(url.replace("{CHECKOUT_SESSION_ID}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(param, "Not a valid URL", "url_invalid")
