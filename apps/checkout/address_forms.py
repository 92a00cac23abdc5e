"""The address form shared by the checkout steps and the address book.

It cleans into `AddressData` via `check_address`. When the canonical form differs from
what was typed, the form stays invalid (a non-field error with code "suggestion") until
the shopper presses one of the two buttons of templates/checkout/_address_suggestion.html:
"use suggested" (stores `check.normalized`, only if it is still the suggestion they saw)
or "keep mine" (stores their own version, only where `check.keepable`).
"""

import hashlib
import json
from typing import Any

from django import forms
from django_countries import countries

from apps.accounts.forms import DescribedErrorsForm
from apps.checkout.addresses import (
    MAX_LENGTHS,
    AddressCheck,
    AddressData,
    check_address,
    keep_own,
)

CHOICE_FIELD = "address_choice"
ACCEPT = "accept"
KEEP = "keep"
SUGGESTION_ERROR = "suggestion"


def suggestion_token(address: AddressData) -> str:
    """Names one suggestion, so "use suggested" applies only to the one the shopper saw."""
    raw = json.dumps(address.as_dict(), sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def _text(name: str, label: str, *, required: bool = False, autocomplete: str = "") -> Any:
    attrs = {"autocomplete": autocomplete} if autocomplete else {}
    limit = MAX_LENGTHS[name]
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        widget=forms.TextInput(attrs=attrs),
        error_messages={
            "required": f"Enter the {label.lower()}.",
            "max_length": f"Use at most {limit} characters.",
        },
    )


class AddressForm(DescribedErrorsForm):
    """Address fields (the names of AddressData); `address` holds the result once valid."""

    first_name = _text("first_name", "First name", required=True, autocomplete="given-name")
    last_name = _text("last_name", "Last name", required=True, autocomplete="family-name")
    company = _text("company", "Company (optional)", autocomplete="organization")
    street1 = _text("street1", "Address line 1", required=True, autocomplete="address-line1")
    street2 = _text("street2", "Address line 2 (optional)", autocomplete="address-line2")
    city = _text("city", "Town or city", autocomplete="address-level2")
    state = _text("state", "State / province / region", autocomplete="address-level1")
    zip_code = _text("zip_code", "Postcode / ZIP", autocomplete="postal-code")
    country = forms.ChoiceField(
        label="Country",
        choices=[],  # set per form: the list follows the active language
        error_messages={
            "required": "Choose a country.",
            "invalid_choice": "Choose a country from the list.",
        },
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    phone = _text("phone", "Phone (optional)", autocomplete="tel")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.input_type = "tel"
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = [("", "Choose a country"), *countries]
        self.address: AddressData | None = None
        self.address_check: AddressCheck | None = None

    @classmethod
    def initial_from(cls, address: AddressData) -> dict[str, str]:
        return address.as_dict()

    @property
    def choice_name(self) -> str:
        """The name of the suggestion buttons (prefixed like the fields)."""
        return self.add_prefix(CHOICE_FIELD)

    @property
    def suggestion(self) -> AddressData | None:
        """The pending suggestion, to show with the two buttons."""
        check = self.address_check
        return check.suggestion if check is not None and check.valid else None

    @property
    def suggestion_accept_value(self) -> str:
        suggestion = self.suggestion
        return f"{ACCEPT}:{suggestion_token(suggestion)}" if suggestion else ""

    @property
    def awaiting_choice(self) -> bool:
        return self.is_bound and any(
            e.code == SUGGESTION_ERROR for e in self.non_field_errors().as_data()
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Checked even when a field already failed, so every problem shows at once; a
        # field keeps its own first error.
        failed = set(self.errors)
        data = AddressData.from_dict(cleaned)
        check = check_address(data)
        self.address_check = check
        for name, messages in check.errors.items():
            if name not in failed:
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        if self.errors:
            return cleaned
        choice = str(self.data.get(self.choice_name) or "")
        if check.suggestion is None:
            self.address = check.normalized
        elif choice == self.suggestion_accept_value:
            self.address = check.suggestion
        elif choice == KEEP and check.keepable:
            self.address = keep_own(data, check)
        else:
            hint = "use the suggested address" + (" or keep yours" if check.keepable else "")
            raise forms.ValidationError(f"Please check the address: {hint}.", code=SUGGESTION_ERROR)
        return cleaned


class AddressBookForm(AddressForm):
    """An address book entry: the address and whether it is a default."""

    default_shipping = forms.BooleanField(
        label="Use as my default shipping address", required=False
    )
    default_billing = forms.BooleanField(label="Use as my default billing address", required=False)
