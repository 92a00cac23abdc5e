"""The hosted Checkout page: order summary, card and bank-debit forms, 3-D Secure challenge.

Every value is escaped with ``html.escape``; no scripts or external resources are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from .money import ZERO_DECIMAL
from .store import Obj

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "chf": "CHF ", "cad": "CA$"}
COUNTRIES = [
    ("US", "United States"), ("GB", "United Kingdom"), ("DE", "Germany"), ("FR", "France"),
    ("NL", "Netherlands"), ("ES", "Spain"), ("IT", "Italy"), ("IE", "Ireland"),
    ("BE", "Belgium"), ("AT", "Austria"), ("CH", "Switzerland"), ("CA", "Canada"),
    ("AU", "Australia"), ("JP", "Japan"),
]  # fmt: skip

_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,sans-serif;color:#1a1f36;background:#f6f9fc}main{max-width:960px;margin:0 auto;
padding:24px;display:grid;gap:32px;grid-template-columns:1fr 1fr}@media(max-width:760px){
main{grid-template-columns:1fr}}h1{font-size:1.4rem;margin:.2em 0}h2{font-size:1.1rem}
.badge{display:inline-block;background:#ffde92;color:#5d4200;font-size:.75rem;font-weight:600;
border-radius:4px;padding:2px 6px;margin-left:8px}table{width:100%;border-collapse:collapse}
td{padding:6px 0;vertical-align:top}td.amt{text-align:right;white-space:nowrap}
tr.total td{font-weight:700;border-top:1px solid #d8dee4;padding-top:10px}
.muted{color:#596171;font-size:.9rem}section.pay{background:#fff;border-radius:8px;
padding:20px;box-shadow:0 1px 3px rgba(0,0,0,.12)}label{display:block;font-weight:600;
margin:12px 0 4px;font-size:.9rem}input,select{width:100%;padding:10px;border:1px solid #8792a2;
border-radius:6px;font:inherit}input:focus,select:focus,button:focus,a:focus{outline:3px solid
#0570de;outline-offset:2px}.row{display:grid;grid-template-columns:1fr 1fr;gap:12px}
button{margin-top:18px;width:100%;padding:12px;border:0;border-radius:6px;background:#0055de;
color:#fff;font:600 1rem system-ui,sans-serif;cursor:pointer}button.secondary{background:#fff;
color:#0055de;border:1px solid #0055de}button.danger{background:#b3093c}
.error{color:#b3093c;font-size:.9rem;margin:4px 0 0}.alert{background:#fde8ec;color:#8a0729;
border:1px solid #b3093c;border-radius:6px;padding:10px 12px;margin:0 0 12px}
.notice{background:#e6f3ff;border:1px solid #0570de;border-radius:6px;padding:12px}
a{color:#0055de}fieldset{border:0;padding:0;margin:0}legend{font-weight:700;
font-size:1.05rem}hr{border:0;border-top:1px solid #e3e8ee;margin:24px 0}
"""


def money(amount: int, currency: str) -> str:
    cur = currency.lower()
    value = f"{amount:,}" if cur in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = _SYMBOLS.get(cur)
    return f"{symbol}{value}" if symbol else f"{value} {cur.upper()}"


def _doc(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    ).encode()


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    alert: str | None = None


def _field(
    name: str,
    label: str,
    state: FormState,
    *,
    autocomplete: str,
    input_type: str = "text",
    inputmode: str | None = None,
    placeholder: str = "",
    required: bool = True,
) -> str:
    fid = f"f-{name}"
    err = state.errors.get(name)
    described = f' aria-describedby="{fid}-err" aria-invalid="true"' if err else ""
    mode = f' inputmode="{inputmode}"' if inputmode else ""
    req = " required" if required else ""
    html_out = (
        f'<label for="{fid}">{escape(label)}</label>'
        f'<input id="{fid}" name="{name}" type="{input_type}" autocomplete="{autocomplete}"'
        f'{mode}{req}{described} placeholder="{escape(placeholder)}" '
        f'value="{escape(state.values.get(name, ""))}">'
    )
    if err:
        html_out += f'<p class="error" id="{fid}-err">{escape(err)}</p>'
    return html_out


def _summary(session: Obj, line_items: list[Obj], shipping_name: str | None) -> str:
    cur = str(session["currency"])
    rows = []
    for item in line_items:
        qty = int(item["quantity"])
        unit = int(item["price"]["unit_amount"])
        rows.append(
            f'<tr><td>{escape(str(item["description"]))}<br><span class="muted">Qty {qty}'
            f" &times; {escape(money(unit, cur))}</span></td>"
            f'<td class="amt">{escape(money(int(item["amount_subtotal"]), cur))}</td></tr>'
        )
    td = session.get("total_details") or {}
    rows.append(
        f'<tr><td>Subtotal</td><td class="amt">'
        f"{escape(money(int(session['amount_subtotal']), cur))}</td></tr>"
    )
    if td.get("amount_discount"):
        rows.append(
            '<tr><td>Discount</td><td class="amt">&minus;'
            f"{escape(money(int(td['amount_discount']), cur))}</td></tr>"
        )
    if session.get("shipping_cost"):
        label = f"Shipping ({shipping_name})" if shipping_name else "Shipping"
        rows.append(
            f'<tr><td>{escape(label)}</td><td class="amt">'
            f"{escape(money(int(td.get('amount_shipping') or 0), cur))}</td></tr>"
        )
    if td.get("amount_tax"):
        rows.append(
            f'<tr><td>Tax</td><td class="amt">{escape(money(int(td["amount_tax"]), cur))}</td></tr>'
        )
    rows.append(
        f'<tr class="total"><td>Total due</td><td class="amt" id="total">'
        f"{escape(money(int(session['amount_total']), cur))}</td></tr>"
    )
    return f'<table aria-label="Order summary">{"".join(rows)}</table>'


def _cancel_link(session: Obj) -> str:
    url = session.get("cancel_url")
    if not url:
        return ""
    return f'<p><a href="{escape(str(url))}" id="cancel">← Back to the shop (cancel)</a></p>'


def payment_page(
    session: Obj,
    line_items: list[Obj],
    shipping_name: str | None,
    state: FormState,
    bank_method: str | None,
) -> bytes:
    cs_id = escape(str(session["id"]))
    values = dict(state.values)
    values.setdefault("email", str(session.get("customer_email") or ""))
    st = FormState(values, state.errors, state.alert)
    alert = (
        f'<div class="alert" role="alert" id="payment-error">{escape(state.alert)}</div>'
        if state.alert
        else ""
    )
    country = values.get("country", "US")
    total = money(int(session["amount_total"]), str(session["currency"]))
    options = "".join(
        f'<option value="{code}"{" selected" if code == country else ""}>{escape(name)}</option>'
        for code, name in COUNTRIES
    )
    card_form = (
        f'<form method="post" action="/c/pay/{cs_id}" novalidate aria-labelledby="card-title">'
        '<input type="hidden" name="method" value="card">'
        '<fieldset><legend id="card-title">Pay with card</legend>'
        + _field("email", "Email", st, autocomplete="email", input_type="email")
        + _field(
            "cardnumber",
            "Card number",
            st,
            autocomplete="cc-number",
            inputmode="numeric",
            placeholder="1234 1234 1234 1234",
        )
        + '<div class="row"><div>'
        + _field("exp", "Expiry (MM / YY)", st, autocomplete="cc-exp", placeholder="MM / YY")
        + "</div><div>"
        + _field("cvc", "CVC", st, autocomplete="cc-csc", inputmode="numeric", placeholder="CVC")
        + "</div></div>"
        + _field("name", "Name on card", st, autocomplete="cc-name")
        + '<div class="row"><div><label for="f-country">Country or region</label>'
        f'<select id="f-country" name="country" autocomplete="country">{options}</select></div>'
        "<div>"
        + _field("postal", "Postal code", st, autocomplete="postal-code")
        + "</div></div>"
        + f'<button type="submit" id="pay">Pay {escape(total)}</button>'
        "</fieldset></form>"
    )
    if int(session["amount_total"]) == 0:
        # Nothing to pay: Stripe asks for no payment method, only a confirmation.
        card_form = (
            f'<form method="post" action="/c/pay/{cs_id}" novalidate aria-labelledby="free-title">'
            '<input type="hidden" name="method" value="free">'
            '<fieldset><legend id="free-title">Nothing to pay</legend>'
            '<p class="muted">Your order total is zero, so no payment details are needed.</p>'
            + _field("email", "Email", st, autocomplete="email", input_type="email")
            + '<button type="submit" id="confirm">Confirm order</button>'
            "</fieldset></form>"
        )
        bank_method = None
    bank_form = ""
    if bank_method:
        bank_form = (
            '<hr><form method="post" action="/c/pay/' + cs_id + '" novalidate '
            'aria-labelledby="bank-title"><input type="hidden" name="method" value="bank_debit">'
            '<fieldset><legend id="bank-title">Bank debit</legend>'
            '<p class="muted">Delayed notification: the order is confirmed once the bank '
            "settles the debit.</p>"
            + _field("bank_email", "Email", FormState(
                {"bank_email": values.get("bank_email", values.get("email", ""))}, state.errors
            ), autocomplete="email", input_type="email")
            + _field("bank_name", "Account holder name", st, autocomplete="name")
            + '<button type="submit" class="secondary" id="pay-bank">Pay with bank debit</button>'
            "</fieldset></form>"
        )  # fmt: skip
    body = (
        '<main><section aria-labelledby="summary-title">'
        + _cancel_link(session)
        + '<h1 id="summary-title">Pay Sandbox Shop<span class="badge">TEST MODE</span></h1>'
        + _summary(session, line_items, shipping_name)
        + '<p class="muted">Stripe sandbox: use test card 4242 4242 4242 4242, any future '
        "expiry, any CVC.</p></section>"
        + f'<section class="pay">{alert}{card_form}{bank_form}</section></main>'
    )
    return _doc("Checkout - Sandbox Shop", body)


def message_page(title: str, message: str, link: tuple[str, str] | None = None) -> bytes:
    link_html = ""
    if link is not None:
        link_html = f'<p><a href="{escape(link[0])}" id="return">{escape(link[1])}</a></p>'
    body = (
        '<main style="grid-template-columns:1fr"><section class="pay">'
        f'<h1>{escape(title)}</h1><p class="notice" role="status">{escape(message)}</p>'
        f"{link_html}</section></main>"
    )
    return _doc(title, body)


def challenge_page(session: Obj) -> bytes:
    cs_id = escape(str(session["id"]))
    amount = escape(money(int(session["amount_total"]), str(session["currency"])))
    body = (
        '<main style="grid-template-columns:1fr"><section class="pay" aria-labelledby="t">'
        '<h1 id="t">3D Secure 2 test page</h1>'
        f"<p>Your bank asks you to confirm the payment of {amount}.</p>"
        '<p class="muted">Sandbox: choose whether the authentication succeeds or fails.</p>'
        f'<form method="post" action="/c/pay/{cs_id}/3ds">'
        '<button type="submit" name="action" value="complete" id="complete">Complete</button>'
        '<button type="submit" name="action" value="fail" class="danger" id="fail">Fail'
        "</button></form></section></main>"
    )
    return _doc("Authenticate your payment", body)
