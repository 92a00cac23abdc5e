"""Storefront query-string forms: listing filters and sort."""

from decimal import Decimal

from django import forms

from apps.catalog.models import Brand
from apps.catalog.selectors import SORT_LABELS, ListingFilters, Sort


class ListingForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
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

    def __init__(self, *args: object, brands: list[Brand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["brand"].choices = [(b.slug, b.name) for b in brands]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("price_min"), cleaned.get("price_max")
        if isinstance(low, Decimal) and isinstance(high, Decimal) and low > high:
            self.add_error("price_max", "The maximum price must not be below the minimum.")
        return cleaned

    def filters(self) -> ListingFilters:
        """The valid part of the query: a bad field is reported and ignored, never a 500."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})

        def valid(name: str) -> object:
            return None if name in self.errors else data.get(name)

        sort_value = valid("sort") or Sort.RELEVANCE.value
        price_min, price_max = valid("price_min"), valid("price_max")
        brands = valid("brand") or []
        return ListingFilters(
            query=str(valid("q") or "").strip(),
            brands=tuple(str(b) for b in brands) if isinstance(brands, list) else (),
            price_min=price_min if isinstance(price_min, Decimal) else None,
            price_max=price_max if isinstance(price_max, Decimal) else None,
            in_stock_only=bool(valid("in_stock")),
            sort=Sort(str(sort_value)),
        )
