"""Pure variant-picker logic: option axes of a product and the variant a choice selects.

A variant's options are stored as JSON, an ordered list of {"name": ..., "value": ...}.
`option_errors` is the strict check staff edits must pass; `option_map` reads whatever is
stored tolerantly (bad entries are skipped) so old or hand-edited rows never break a page.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

OPTION_NAME_MAX_LENGTH = 50
OPTION_VALUE_MAX_LENGTH = 100


def _text(value: object) -> str | None:
    """A usable option name or value: a non-empty string (numbers are read as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def option_map(options: object) -> dict[str, str]:
    """{name: value} in stored order, skipping malformed entries and repeated names."""
    result: dict[str, str] = {}
    if not isinstance(options, list):
        return result
    seen: set[str] = set()
    for entry in options:
        if not isinstance(entry, dict):
            continue
        name, value = _text(entry.get("name")), _text(entry.get("value"))
        if name is None or value is None or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        result[name] = value
    return result


def option_errors(options: object) -> list[str]:
    """Why stored options are malformed (empty when they are fine), for staff forms."""
    if not isinstance(options, list):
        return ['Options must be a list like [{"name": "Size", "value": "M"}].']
    errors: list[str] = []
    seen: set[str] = set()
    for position, entry in enumerate(options, start=1):
        where = f"Option {position}"
        if not isinstance(entry, dict) or set(entry) != {"name", "value"}:
            errors.append(f'{where} must be an object with exactly "name" and "value".')
            continue
        name, value = entry["name"], entry["value"]
        if not isinstance(name, str) or not isinstance(value, str):
            errors.append(f"{where}: name and value must be text.")
            continue
        if not name.strip() or not value.strip():
            errors.append(f"{where}: name and value must not be empty.")
            continue
        if len(name) > OPTION_NAME_MAX_LENGTH or len(value) > OPTION_VALUE_MAX_LENGTH:
            errors.append(
                f"{where}: names are at most {OPTION_NAME_MAX_LENGTH} characters, "
                f"values at most {OPTION_VALUE_MAX_LENGTH}."
            )
            continue
        if name.strip().casefold() in seen:
            errors.append(f'{where}: the option "{name.strip()}" is given twice.')
            continue
        seen.add(name.strip().casefold())
    return errors


class HasOptions(Protocol):
    pk: int

    def option_map(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class OptionAxis:
    name: str
    values: tuple[str, ...]

    @property
    def param(self) -> str:
        """The query-string name of this axis in the picker form."""
        return f"o_{self.name}"


V = TypeVar("V", bound=HasOptions)


def option_axes(variants: Sequence[HasOptions]) -> list[OptionAxis]:
    """Axes in the order they first appear; values in the order variants list them."""
    order: dict[str, list[str]] = {}
    for variant in variants:
        for name, value in variant.option_map().items():
            values = order.setdefault(name, [])
            if value not in values:
                values.append(value)
    return [OptionAxis(name, tuple(values)) for name, values in order.items()]


def select_variant(
    variants: Sequence[V], params: Mapping[str, str], default: V | None = None
) -> tuple[V | None, bool]:
    """The variant chosen by `variant=<id>` or by one value per axis.

    Returns (variant, matched): when the shopper's choice names no existing variant,
    matched is False and the default is returned so the page can say so.
    """
    if not variants:
        return None, True
    first = default if default is not None else variants[0]
    by_id = {str(v.pk): v for v in variants}
    requested_id = params.get("variant", "")
    if requested_id:
        chosen = by_id.get(requested_id)
        return (chosen, True) if chosen is not None else (first, False)
    axes = option_axes(variants)
    wanted = {a.name: params[a.param] for a in axes if params.get(a.param)}
    if not wanted:
        return first, True
    for variant in variants:
        options = variant.option_map()
        if all(options.get(name) == value for name, value in wanted.items()):
            return variant, True
    return first, False


class _Activatable(Protocol):
    @property
    def is_active(self) -> bool: ...


class SellableVariant(Protocol):
    @property
    def is_active(self) -> bool: ...

    @property
    def product(self) -> _Activatable: ...


def is_sellable(variant: SellableVariant) -> bool:
    """Can this variant be put in a cart or bought: it and its product are both active.
    The one rule the cart's adds, quantity changes, merge and pricing share."""
    return variant.is_active and variant.product.is_active
