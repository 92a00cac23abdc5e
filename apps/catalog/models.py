"""Catalog: categories (a tree), brands, products, their variants and images.

Every product has at least one variant; the variant is what is stocked, priced
(base price unless overridden) and put in a cart.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from apps.catalog import variants
from apps.catalog.validators import IMAGE_EXTENSIONS, validate_image_file
from apps.core.models import TimeStampedModel


class Category(TimeStampedModel):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_featured = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", kwargs={"slug": self.slug})


class Brand(TimeStampedModel):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    class DimensionUnit(models.TextChoices):
        CM = "cm", "centimetres"
        IN = "in", "inches"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    base_price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    taxable = models.BooleanField(default=True)
    requires_shipping = models.BooleanField(default=True)
    weight_kg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    length = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    width = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    height = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dimension_unit = models.CharField(
        max_length=2, choices=DimensionUnit.choices, default=DimensionUnit.CM
    )
    is_active = models.BooleanField(default=True, db_index=True)
    is_featured = models.BooleanField(default=False)
    seo_title = models.CharField(max_length=70, blank=True)
    seo_description = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_price__gte=0), name="catalog_product_base_price_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["is_active", "category"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product", kwargs={"slug": self.slug})


class ProductVariant(TimeStampedModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120, blank=True, help_text="e.g. 'M / Navy'")
    # An ordered list of {"name": "Size", "value": "M"}: a list keeps the axis order.
    options = models.JSONField(default=list, blank=True)
    price_override = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_override__isnull=True) | Q(price_override__gte=0),
                name="catalog_variant_price_override_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} ({self.name})" if self.name else self.product.name

    @property
    def price(self) -> Decimal:
        return self.price_override if self.price_override is not None else self.product.base_price

    def clean(self) -> None:
        """Malformed options would confuse the variant picker: refuse them in forms."""
        super().clean()
        errors = variants.option_errors(self.options)
        if errors:
            raise ValidationError({"options": errors})

    def option_map(self) -> dict[str, str]:
        """Tolerant of stored rows that never passed clean(): bad entries are skipped."""
        return variants.option_map(self.options)


class ProductImage(TimeStampedModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(
        ProductVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    image = models.FileField(
        upload_to="products/",
        validators=[FileExtensionValidator(IMAGE_EXTENSIONS), validate_image_file],
        help_text="SVG, PNG, JPEG or WebP, at most 5 MB.",
    )
    alt_text = models.CharField(max_length=200)
    width = models.PositiveIntegerField(default=800)
    height = models.PositiveIntegerField(default=800)
    position = models.PositiveIntegerField(default=0)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(is_primary=True),
                name="catalog_one_primary_image_per_product",
            ),
        ]

    def __str__(self) -> str:
        return self.alt_text
