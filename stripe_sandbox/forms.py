"""Stripe's bracketed form encoding: ``line_items[0][price_data][unit_amount]=100``.

``parse_form`` turns the flat pairs into nested dicts and lists; ``Params`` reads typed values
out of them and raises Stripe's 400 errors that name the offending parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TypeAlias
from urllib.parse import parse_qsl

from .errors import ApiError, invalid, missing

Node: TypeAlias = str | list["Node"] | dict[str, "Node"]

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART_RE = re.compile(r"\[([^\[\]]*)\]")
# Stripe's deepest parameters nest 6 levels; a cap keeps hostile keys (a[b][c]... 1000 deep)
# from exhausting the recursion limit further down (a 500 instead of a 400).
MAX_DEPTH = 12
_DECIMAL_RE = re.compile(r"^(\d+)(?:\.(\d+))?$", re.ASCII)
_INTEGER_RE = re.compile(r"^-?\d{1,19}$", re.ASCII)
# Stripe's integers are 64-bit; so are SQLite's, so a larger ``created[gte]`` is refused
# as a 400 before it overflows in the query.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _short(key: str) -> str:
    return key if len(key) <= 100 else key[:100] + "..."


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Node]:
    root: dict[str, Node] = {}
    for key, value in pairs:
        m = _KEY_RE.match(key)
        if m is None:
            raise invalid(_short(key), f"Invalid parameter name: {_short(key)}")
        parts = [m.group(1), *_PART_RE.findall(m.group(2))]
        if len(parts) > MAX_DEPTH:
            raise invalid(
                _short(key),
                f"Invalid parameter: {_short(key)} is nested more than {MAX_DEPTH} levels deep.",
            )
        node: dict[str, Node] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                if isinstance(node.get(part), dict):
                    raise invalid(key, f"Invalid parameter: {key} is an object, not a value")
                node[part] = value
            else:
                child = node.get(part)
                if child is None:
                    child = {}
                    node[part] = child
                if not isinstance(child, dict):
                    raise invalid(key, f"Invalid parameter: {key} mixes a value and an object")
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _listify(node: Node) -> Node:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        # ``isascii``: ``"²".isdigit()`` is true, but ``int("²")`` fails.
        if converted and all(k.isascii() and k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def parse_form(body: str) -> dict[str, Node]:
    return parse_pairs(parse_qsl(body, keep_blank_values=True))


class Params:
    """Typed, validating view of a parsed parameter dict; ``prefix`` names nested params."""

    def __init__(self, data: dict[str, Node], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def has(self, key: str) -> bool:
        return key in self.data

    def check_known(self, allowed: Iterable[str]) -> None:
        allowed_set = set(allowed)
        for key in self.data:
            if key not in allowed_set:
                name = self.name(key)
                raise ApiError(
                    400,
                    f"Received unknown parameter: {name}",
                    code="parameter_unknown",
                    param=name,
                )

    def string(self, key: str, *, required: bool = False, max_length: int = 5000) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return None
        if not isinstance(value, str):
            raise invalid(self.name(key), f"Invalid string: {self.name(key)} must be a string")
        if len(value) > max_length:
            raise invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be at most {max_length} characters",
                code="parameter_invalid_string_too_long",
            )
        return value

    def req_str(self, key: str, *, max_length: int = 5000) -> str:
        value = self.string(key, required=True, max_length=max_length)
        assert value is not None
        return value

    def choice(self, key: str, choices: Iterable[str], *, default: str | None = None) -> str | None:
        value = self.string(key)
        if value is None:
            return default
        options = list(choices)
        if value not in options:
            raise invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be one of {', '.join(options)}",
            )
        return value

    def integer(
        self,
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        raw = self.string(key, required=required)
        if raw is None:
            return None
        # Digits only (``int()`` also takes " 5", "+5" and "5_000"), within 64 bits.
        value = int(raw) if _INTEGER_RE.match(raw) else None
        if value is None or not INT_MIN <= value <= INT_MAX:
            raise invalid(
                self.name(key),
                f"Invalid integer: {_short(raw)}",
                code="parameter_invalid_integer",
            )
        if minimum is not None and value < minimum:
            raise invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be greater than or equal to {minimum}",
            )
        if maximum is not None and value > maximum:
            raise invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be less than or equal to {maximum}",
            )
        return value

    def req_int(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.integer(key, required=True, minimum=minimum, maximum=maximum)
        assert value is not None
        return value

    def decimal(self, key: str, *, required: bool = False) -> Decimal | None:
        raw = self.string(key, required=required)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise invalid(
                self.name(key), f"Invalid decimal: {raw}", code="parameter_invalid_decimal"
            ) from None
        if not value.is_finite():
            raise invalid(self.name(key), f"Invalid decimal: {raw}")
        return value

    def decimal_string(
        self, key: str, *, minimum: Decimal, maximum: Decimal, places: int = 12
    ) -> Decimal | None:
        """Stripe's ``format: decimal`` amounts (``unit_amount_decimal``): a plain
        non-negative decimal string with at most ``places`` decimal places, within range."""
        raw = self.string(key)
        if raw is None:
            return None
        m = _DECIMAL_RE.match(raw)
        if m is None or len(m.group(2) or "") > places:
            raise invalid(
                self.name(key),
                f"Invalid decimal: {raw[:50]}. {self.name(key)} must be a non-negative decimal "
                f"string with at most {places} decimal places.",
                code="parameter_invalid_decimal",
            )
        value = Decimal(raw)
        if value < minimum:
            raise invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be greater than or equal to {minimum}",
            )
        if value > maximum:
            raise invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be less than or equal to {maximum}",
            )
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        raw = self.string(key)
        if raw is None:
            return default
        if raw not in ("true", "false"):
            raise invalid(self.name(key), f"Invalid boolean: {raw}")
        return raw == "true"

    def sub(self, key: str, *, required: bool = False) -> Params | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return None
        if not isinstance(value, dict):
            raise invalid(self.name(key), f"Invalid object: {self.name(key)} must be a hash")
        return Params(value, self.name(key))

    def items(self, key: str, *, required: bool = False) -> list[Params]:
        """An array of hashes (``line_items[0][...]``)."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return []
        if not isinstance(value, list):
            raise invalid(self.name(key), f"Invalid array: {self.name(key)} must be an array")
        out: list[Params] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise invalid(f"{self.name(key)}[{i}]", f"Invalid object: {self.name(key)}[{i}]")
            out.append(Params(item, f"{self.name(key)}[{i}]"))
        return out

    def strings(self, key: str) -> list[str]:
        """An array of strings (``expand[]=a``); a single string is accepted too."""
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v for v in value if isinstance(v, str)]
        raise invalid(
            self.name(key), f"Invalid array: {self.name(key)} must be an array of strings"
        )

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid(self.name(key), f"Invalid hash: {self.name(key)} must be a hash")
        if len(value) > 50:
            raise invalid(self.name(key), "Metadata can have at most 50 keys")
        out: dict[str, str] = {}
        for k, v in value.items():
            if not isinstance(v, str):
                raise invalid(f"{self.name(key)}[{k}]", "Metadata values must be strings")
            if len(k) > 40:
                raise invalid(self.name(key), f"Metadata key {k[:40]}... exceeds 40 characters")
            if len(v) > 500:
                raise invalid(f"{self.name(key)}[{k}]", "Metadata values exceed 500 characters")
            out[k] = v
        return out
