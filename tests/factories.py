"""Builders for test data: real rows through the ORM, with sensible defaults.

Plain functions rather than a factory library: each returns saved objects and takes
keyword overrides for what a test cares about.
"""

import itertools
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.core.files.base import ContentFile

from apps.cart.models import Cart
from apps.catalog.models import Brand, Category, Product, ProductImage, ProductVariant
from apps.inventory.models import StockItem

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def make_category(name: str | None = None, **kwargs: object) -> Category:
    n = _n()
    name = name or f"Category {n}"
    kwargs.setdefault("slug", f"category-{n}")
    return Category.objects.create(name=name, **kwargs)


def make_brand(name: str | None = None, **kwargs: object) -> Brand:
    n = _n()
    name = name or f"Brand {n}"
    kwargs.setdefault("slug", f"brand-{n}")
    return Brand.objects.create(name=name, **kwargs)


def make_product(
    name: str | None = None,
    *,
    price: Decimal | str = "19.99",
    category: Category | None = None,
    brand: Brand | None = None,
    stock: int = 10,
    allow_backorder: bool = False,
    track_quantity: bool = True,
    variants: list[dict[str, object]] | None = None,
    image: bool = True,
    **kwargs: object,
) -> Product:
    """A product with one default variant (or the given ones), stock and a primary image.

    `variants` items: {"options": [{"name": "Size", "value": "M"}], "price_override": ...,
    "stock": 3, "sku": ...}.
    """
    n = _n()
    name = name or f"Product {n}"
    kwargs.setdefault("slug", f"product-{n}")
    product = Product.objects.create(
        name=name,
        base_price=Decimal(str(price)),
        category=category or make_category(),
        brand=brand,
        **kwargs,
    )
    specs = variants or [{}]
    for position, spec in enumerate(specs):
        options = spec.get("options", [])
        assert isinstance(options, list)
        label = " / ".join(str(o["value"]) for o in options)
        override = spec.get("price_override")
        variant = ProductVariant.objects.create(
            product=product,
            sku=str(spec.get("sku", f"SKU-{n}-{position}")),
            name=label,
            options=options,
            price_override=Decimal(str(override)) if override is not None else None,
            position=position,
            is_active=bool(spec.get("is_active", True)),
        )
        units = spec.get("stock", stock)
        assert isinstance(units, int)
        StockItem.objects.create(
            variant=variant,
            on_hand=units,
            allow_backorder=bool(spec.get("allow_backorder", allow_backorder)),
            track_quantity=track_quantity,
            low_stock_threshold=int(str(spec.get("low_stock_threshold", 5))),
        )
    if image:
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>{n}</title>'
        svg += "</svg>"
        picture = ProductImage(product=product, alt_text=f"{name} photo", is_primary=True)
        picture.image.save(f"test-{n}.svg", ContentFile(svg.encode()), save=True)
    return product


def make_user(
    email: str | None = None,
    password: str = "correct horse 42",  # noqa: S107 - test accounts only
    **kwargs: object,
) -> User:
    n = _n()
    email = email or f"user{n}@example.com"
    user_model = get_user_model()
    username = str(kwargs.pop("username", email))
    return user_model.objects.create_user(
        username=username, email=email, password=password, **kwargs
    )


from apps.promotions.models import Coupon  # noqa: E402 - builders added for the cart issue


def make_coupon(code: str | None = None, **kwargs: object) -> Coupon:
    """A coupon valid from yesterday for a year (10% off unless told otherwise).

    Pass products=/categories=/excluded_products=/excluded_categories= lists for rules."""
    from datetime import timedelta

    from django.utils import timezone

    n = _n()
    rules = {
        name: kwargs.pop(key, None)
        for key, name in [
            ("products", "applicable_products"),
            ("categories", "applicable_categories"),
            ("excluded_products", "excluded_products"),
            ("excluded_categories", "excluded_categories"),
        ]
    }
    now = timezone.now()
    kwargs.setdefault("type", "percentage")
    kwargs.setdefault("value", Decimal("10.00"))
    kwargs.setdefault("name", f"Coupon {n}")
    kwargs.setdefault("starts_at", now - timedelta(days=1))
    kwargs.setdefault("ends_at", now + timedelta(days=365))
    for key in ("value", "minimum_order_amount", "maximum_discount"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = Decimal(str(kwargs[key]))
    coupon = Coupon.objects.create(code=code or f"CODE{n}", **kwargs)
    for name, related in rules.items():
        if related:
            getattr(coupon, name).set(related)
    return coupon


def variant_of(product: Product) -> ProductVariant:
    """The product's first variant, as the storefront's variant picker orders them."""
    return ProductVariant.objects.filter(product=product).order_by("position", "id")[0]


def new_session(session_key: str | None = None) -> SessionBase:
    """A session of the configured engine (the database), fresh or loaded by key, as a
    request would get it: a test on another engine would not see what the site sees."""
    engine = import_module(settings.SESSION_ENGINE)
    session: SessionBase = engine.SessionStore(session_key=session_key)
    return session


def guest_cart() -> Cart:
    """An active guest cart for a fresh session."""
    from apps.cart import services

    return services.get_or_create_cart(user=None, session=new_session())
