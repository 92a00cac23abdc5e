"""Checkout data: the checkout session and its audit trail, the customer's address book,
shipping zones and methods, and tax rates.

Addresses on a checkout session are JSON snapshots (`checkout.addresses.AddressData` as a dict), not
links to the address book: editing a saved address later must not change what a
checkout (and later an order) was priced and shipped with.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from apps.cart.models import Cart
from apps.checkout.machine import State
from apps.core.models import TimeStampedModel


def new_public_id() -> str:
    """A non-guessable id for URLs, the API and the Django session (never the pk)."""
    return secrets.token_urlsafe(24)


class CheckoutSession(TimeStampedModel):
    class UserType(models.TextChoices):
        UNKNOWN = "unknown", "Not chosen yet"
        GUEST = "guest", "Guest"
        REGISTERED = "registered", "Registered customer"

    class PaymentMethod(models.TextChoices):
        CARD = "card", "Card (Stripe Checkout)"

    public_id = models.CharField(max_length=40, unique=True, default=new_public_id)
    # SET_NULL: a sign-in merge deletes the guest cart; the checkout session then follows
    # the customer's cart (checkout.services) instead of vanishing with it.
    cart = models.ForeignKey(
        Cart, null=True, blank=True, on_delete=models.SET_NULL, related_name="checkout_sessions"
    )
    cart_version = models.PositiveIntegerField(help_text="The cart version it was priced on.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checkout_sessions",
    )
    user_type = models.CharField(max_length=10, choices=UserType.choices, default=UserType.UNKNOWN)
    state = models.CharField(
        max_length=24, choices=[(s.value, s.value) for s in State], default=State.CART_REVIEW.value
    )
    # Contact: a guest's own, a customer's copied from the account.
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)  # E.164, normalised by phonenumbers
    marketing_consent = models.BooleanField(default=False)
    shipping_address = models.JSONField(null=True, blank=True)
    billing_address = models.JSONField(null=True, blank=True)
    billing_same_as_shipping = models.BooleanField(default=True)
    shipping_method = models.ForeignKey(
        "ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True)
    # State value -> ISO timestamp of when the shopper completed that step.
    steps_completed = models.JSONField(default=dict, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    is_open = models.BooleanField(default=True, db_index=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart"],
                condition=Q(is_open=True, cart__isnull=False),
                name="checkout_one_open_session_per_cart",
            ),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} ({self.state})"


class CheckoutEvent(models.Model):
    """The audit trail of a checkout session. Ids and step names only: the log stream never
    sees personal data, and these rows hold none either."""

    class Kind(models.TextChoices):
        STARTED = "checkout_started", "Checkout started"
        STEP_COMPLETED = "step_completed", "Step completed"
        EDITED = "step_edited", "Step edited"
        REFUSED = "transition_refused", "Transition refused"
        CART_CHANGED = "cart_changed", "Cart changed, repriced"
        CART_MERGED = "cart_merged", "Cart merged at sign-in"
        EXPIRED = "checkout_expired", "Checkout expired"
        CANCELLED = "checkout_cancelled", "Checkout cancelled"

    session = models.ForeignKey(CheckoutSession, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    event = models.CharField(max_length=32, blank=True)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    detail = models.CharField(max_length=200, blank=True)  # guard name, reason code
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.event}".strip()


class Address(TimeStampedModel):
    """A customer's saved address (the address book)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    company = models.CharField(max_length=100, blank=True)
    street1 = models.CharField("Address line 1", max_length=200)
    street2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField("State / province / region", max_length=100, blank=True)
    zip_code = models.CharField("Postcode / ZIP", max_length=20, blank=True)
    country = CountryField()
    phone = models.CharField(max_length=32, blank=True)  # E.164
    is_default_shipping = models.BooleanField(default=False)
    is_default_billing = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default_shipping", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_default_shipping=True),
                name="address_one_default_shipping_per_user",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_default_billing=True),
                name="address_one_default_billing_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"address {self.pk}"


class ShippingZone(TimeStampedModel):
    """Where a set of methods applies. The most specific matching zone wins: a postcode
    prefix beats a subdivision, which beats a whole country."""

    name = models.CharField(max_length=100)
    countries = CountryField(multiple=True)
    subdivisions = models.JSONField(
        default=list, blank=True, help_text='ISO 3166-2 codes without the country, e.g. ["CA"].'
    )
    postcode_prefixes = models.JSONField(
        default=list, blank=True, help_text='Postcode prefixes, e.g. ["94", "SW1"].'
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ShippingMethod(TimeStampedModel):
    class ServiceLevel(models.TextChoices):
        ECONOMY = "economy", "Economy"
        STANDARD = "standard", "Standard"
        EXPRESS = "express", "Express"
        OVERNIGHT = "overnight", "Overnight"

    zone = models.ForeignKey(ShippingZone, on_delete=models.PROTECT, related_name="methods")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    carrier = models.CharField(max_length=60)
    service_level = models.CharField(
        max_length=12, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    currency = models.CharField(max_length=3, default="USD")
    base_cost = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    cost_per_kg = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    free_over = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Free when the discounted subtotal reaches this amount.",
    )
    min_delivery_days = models.PositiveSmallIntegerField()
    max_delivery_days = models.PositiveSmallIntegerField()
    tracking_available = models.BooleanField(default=True)
    requires_signature = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "base_cost", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_delivery_days__lte=models.F("max_delivery_days")),
                name="shipping_method_min_days_le_max",
            ),
            models.CheckConstraint(
                condition=Q(base_cost__gte=0) & Q(cost_per_kg__gte=0),
                name="shipping_method_costs_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"


class TaxRate(TimeStampedModel):
    """A tax that applies to addresses in a country, optionally narrowed to a subdivision
    and a postcode prefix. The most specific matching rates apply (checkout.tax)."""

    class Kind(models.TextChoices):
        SALES = "sales", "Sales tax"
        VAT = "vat", "VAT"
        GST = "gst", "GST"

    name = models.CharField(max_length=100, help_text="The jurisdiction shown to shoppers.")
    country = CountryField()
    subdivision = models.CharField(max_length=10, blank=True)
    postcode_prefix = models.CharField(max_length=20, blank=True)
    rate = models.DecimalField(
        max_digits=7,
        decimal_places=5,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A fraction: 0.0725 is 7.25%.",
    )
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.SALES)
    applies_to_shipping = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["country", "subdivision", "postcode_prefix", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="tax_rate_between_0_and_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name
