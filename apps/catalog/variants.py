"""Pure variant-picker logic: option axes of a product and the variant a choice selects."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar


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
