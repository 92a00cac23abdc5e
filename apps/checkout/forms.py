"""Checkout step forms: parse and bound what the shopper typed; the services and the
machine decide what it means. Addresses use checkout.address_forms.AddressForm."""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers
from django import forms

from apps.accounts.forms import DescribedErrorsForm
from apps.checkout.models import CheckoutSession
from apps.checkout.shipping import ShippingQuote


class IdentifyForm(forms.Form):
    """Continue as a guest (signing in and creating an account are links)."""

    choice = forms.ChoiceField(choices=[("guest", "Continue as guest")], initial="guest")


class GuestInfoForm(DescribedErrorsForm):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    first_name = forms.CharField(
        label="First name",
        max_length=100,
        error_messages={"required": "Enter your first name."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=100,
        error_messages={"required": "Enter your last name."},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=32,
        required=False,
        help_text="Only for questions about delivery.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    marketing_consent = forms.BooleanField(
        label="Email me news and offers (you can unsubscribe at any time)",
        required=False,
        initial=False,
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean_phone(self) -> str:
        """Normalised to E.164; a number without a country code is read as a US one."""
        raw = str(self.cleaned_data.get("phone") or "").strip()
        if not raw:
            return ""
        try:
            number = phonenumbers.parse(raw, "US")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError("Enter a phone number we can call, like +1 415 555 0132.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class SameAsShippingForm(forms.Form):
    billing_same_as_shipping = forms.BooleanField(
        label="My billing address is the same as my shipping address",
        required=False,
        initial=True,
    )


class SavedAddressForm(forms.Form):
    """A customer picks a saved address or enters a new one ("new")."""

    saved_address = forms.ChoiceField(
        label="Ship to", widget=forms.RadioSelect, error_messages={"required": "Choose an address."}
    )

    def __init__(self, *args: object, choices: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["saved_address"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [*choices, ("new", "A new address")]


class ShippingMethodForm(forms.Form):
    shipping_method = forms.TypedChoiceField(
        label="Shipping method",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a shipping method.",
            "invalid_choice": "Choose one of the shipping methods listed.",
        },
    )

    def __init__(self, *args: object, quotes: Sequence[ShippingQuote], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["shipping_method"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(str(q.method_id), q.name) for q in quotes]


class PaymentMethodForm(forms.Form):
    payment_method = forms.ChoiceField(
        label="Payment method",
        choices=CheckoutSession.PaymentMethod.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how you would like to pay.",
            "invalid_choice": "Choose one of the payment methods listed.",
        },
    )
