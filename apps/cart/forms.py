"""Cart forms: parse and bound the shopper's input; the services enforce the rules."""

from django import forms

from apps.cart.models import MAX_LINE_QUANTITY

QUANTITY_ERRORS = {
    "invalid": "Enter a whole number.",
    "required": "Enter a quantity.",
    "min_value": "Quantity must be at least %(limit_value)s.",
    "max_value": f"You can buy at most {MAX_LINE_QUANTITY} of an item.",
}


class AddToCartForm(forms.Form):
    variant_id = forms.IntegerField(min_value=1, max_value=2**62)
    quantity = forms.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, initial=1, error_messages=QUANTITY_ERRORS
    )
    next = forms.CharField(required=False, max_length=500)


class VersionForm(forms.Form):
    """Every cart-page write says which version of the cart it was based on."""

    version = forms.IntegerField(min_value=1, max_value=2**31)


class QuantityForm(VersionForm):
    quantity = forms.IntegerField(
        min_value=0, max_value=MAX_LINE_QUANTITY, error_messages=QUANTITY_ERRORS
    )


class CouponForm(VersionForm):
    code = forms.CharField(
        max_length=40,
        error_messages={
            "required": "Enter a discount code.",
            "max_length": "We don't recognise that code. Check it and try again.",
        },
    )
