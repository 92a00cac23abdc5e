"""Storefront query-string forms: search, listing filters, sort and page.

Views read the query string only through ListingForm, never from request.GET: every
value that reaches a selector (and PostgreSQL, which refuses NUL bytes) is cleaned here.
"""

import unicodedata
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError

from apps.catalog.models import Brand
from apps.storefront.selectors import SORT_LABELS, ListingFilters, Sort

SEARCH_MAX_LENGTH = 200

# Control characters (NUL among them) and lone surrogates: PostgreSQL or the UTF-8 encoder
# refuse them, and no product name contains them.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs"})


def clean_search_text(value: str) -> str:
    """Unsafe characters become spaces, then runs of whitespace collapse to one space."""
    text = "".join(" " if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in value)
    return " ".join(text.split())


class SearchField(forms.CharField):
    """Free text that is safe to hand to the database: cleaned before length is checked."""

    def to_python(self, value: object) -> str:
        return clean_search_text(str(super().to_python(value)))


class ListingForm(forms.Form):
    q = SearchField(
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        label="Search",
        error_messages={"max_length": "That search is too long; it was ignored."},
    )
    brand = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Brand"
    )
    price_min = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=12, decimal_places=2, label="Min price"
    )
    price_max = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=12, decimal_places=2, label="Max price"
    )
    in_stock = forms.BooleanField(required=False, label="In stock only")
    sort = forms.ChoiceField(
        required=False, choices=[(s.value, label) for s, label in SORT_LABELS.items()]
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: object, brands: list[Brand] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.set_brands(brands or [])

    def set_brands(self, brands: list[Brand]) -> None:
        """The brand choices; they depend on the search, so they may come after it."""
        self.fields["brand"].choices = [(b.slug, b.name) for b in brands]  # type: ignore[attr-defined]
        if hasattr(self, "cleaned_data"):
            del self.cleaned_data
        self._errors = None  # validate again against the new choices

    def search_query(self) -> str:
        """The cleaned search text alone (brand choices are looked up with it); '' if invalid."""
        field = self.fields["q"]
        raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix("q"))
        try:
            return str(field.clean(raw))
        except ValidationError:
            return ""

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("price_min"), cleaned.get("price_max")
        if isinstance(low, Decimal) and isinstance(high, Decimal) and low > high:
            self.add_error("price_max", "The maximum price must not be below the minimum.")
        return cleaned

    def _valid(self, name: str) -> object:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return None if name in self.errors else data.get(name)

    def filters(self) -> ListingFilters:
        """The valid part of the query: a bad field is reported and ignored, never a 500."""
        sort_value = self._valid("sort") or Sort.RELEVANCE.value
        price_min, price_max = self._valid("price_min"), self._valid("price_max")
        brands = self._valid("brand") or []
        return ListingFilters(
            query=str(self._valid("q") or ""),
            brands=tuple(str(b) for b in brands) if isinstance(brands, list) else (),
            price_min=price_min if isinstance(price_min, Decimal) else None,
            price_max=price_max if isinstance(price_max, Decimal) else None,
            in_stock_only=bool(self._valid("in_stock")),
            sort=Sort(str(sort_value)),
        )

    def page_number(self) -> int:
        """The requested page; junk means the first (the paginator clamps one past the end)."""
        page = self._valid("page")
        return page if isinstance(page, int) else 1

    def query_string(self) -> str:
        """The valid filters as a query string (no page), for pagination links."""
        filters = self.filters()
        pairs: list[tuple[str, str]] = []
        if filters.query:
            pairs.append(("q", filters.query))
        pairs.extend(("brand", slug) for slug in filters.brands)
        if filters.price_min is not None:
            pairs.append(("price_min", str(filters.price_min)))
        if filters.price_max is not None:
            pairs.append(("price_max", str(filters.price_max)))
        if filters.in_stock_only:
            pairs.append(("in_stock", "on"))
        if filters.sort is not Sort.RELEVANCE:
            pairs.append(("sort", filters.sort.value))
        return urlencode(pairs)
