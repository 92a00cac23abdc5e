"""The demo catalog: about 60 products in 7 categories, written idempotently.

Images are SVG placeholders drawn here (the product's name on a colour), so seeding
needs no network. Each product also carries its demo stock (units, backorder, tracked),
which inventory's seeder reads through `demo_variants()` and receives through its services.
"""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from apps.catalog.models import Brand, Category, Product, ProductImage, ProductVariant

BRANDS = ["Northwind", "Alder & Pine", "Summit Works", "Tidewater", "Kestrel"]

# (category, parent or None, description)
CATEGORIES: list[tuple[str, str | None, str]] = [
    ("Clothing", None, "Layers for every season."),
    ("Jackets", "Clothing", "Shells, insulation and rain jackets."),
    ("T-Shirts", "Clothing", "Soft cotton and merino tees."),
    ("Footwear", None, "Boots and shoes built for miles."),
    ("Camping", None, "Tents, sleeping bags and camp kitchen."),
    ("Kitchen", None, "Mugs, bottles and cookware."),
    ("Bags", None, "Packs, totes and duffels."),
    ("Accessories", None, "Hats, gloves and small essentials."),
]

SIZES = ["S", "M", "L", "XL"]
COLORS = ["Navy", "Forest", "Sand"]
SHOE_SIZES = ["40", "41", "42", "43", "44"]


@dataclass
class DemoProduct:
    name: str
    category: str
    brand: str
    price: str
    description: str
    axes: dict[str, list[str]] = field(default_factory=dict)
    stock: int = 25
    backorder: bool = False
    track: bool = True
    featured: bool = False
    weight: str = "0.500"


def _products() -> list[DemoProduct]:
    items: list[DemoProduct] = []
    jackets = [
        ("Ridge Rain Shell", "149.00"),
        ("Harbor Insulated Parka", "229.00"),
        ("Trail Softshell", "119.00"),
        ("Packable Down Vest", "99.00"),
        ("Storm Anorak", "134.50"),
        ("Field Chore Coat", "159.00"),
    ]
    for i, (name, price) in enumerate(jackets):
        items.append(
            DemoProduct(
                name,
                "Jackets",
                BRANDS[i % 5],
                price,
                f"The {name} keeps weather out and warmth in. Taped seams, two hand pockets.",
                axes={"Size": SIZES, "Color": COLORS[: 2 + i % 2]},
                stock=[12, 3, 0, 30, 8, 6][i],
                featured=i < 2,
                weight="0.750",
            )
        )
    tees = [
        ("Everyday Cotton Tee", "24.00"),
        ("Merino Trail Tee", "68.00"),
        ("Pocket Tee", "28.00"),
        ("Long Sleeve Henley", "42.00"),
        ("Graphic Mountain Tee", "30.00"),
        ("Sun Hoodie", "55.00"),
        ("Ringer Tee", "26.00"),
        ("Organic Crew Tee", "32.00"),
    ]
    for i, (name, price) in enumerate(tees):
        items.append(
            DemoProduct(
                name,
                "T-Shirts",
                BRANDS[(i + 1) % 5],
                price,
                f"A {name.lower()} cut for comfort, pre-shrunk and garment dyed.",
                axes={"Size": SIZES, "Color": COLORS},
                stock=[40, 2, 15, 0, 22, 9, 18, 50][i],
                featured=i == 1,
                weight="0.200",
            )
        )
    shoes = [
        ("Granite Hiking Boot", "189.00"),
        ("Trail Runner", "139.00"),
        ("Camp Moc", "79.00"),
        ("Waterproof Mid Boot", "199.00"),
        ("Canvas Sneaker", "65.00"),
        ("Wool Slipper", "59.00"),
        ("Approach Shoe", "149.00"),
    ]
    for i, (name, price) in enumerate(shoes):
        items.append(
            DemoProduct(
                name,
                "Footwear",
                BRANDS[(i + 2) % 5],
                price,
                f"The {name} has a grippy outsole and a cushioned footbed.",
                axes={"Size": SHOE_SIZES},
                stock=[10, 4, 20, 0, 35, 7, 14][i],
                backorder=i == 3,
                featured=i == 0,
                weight="1.100",
            )
        )
    camping = [
        ("Two-Person Dome Tent", "249.00", 6),
        ("Ultralight Tarp", "89.00", 14),
        ("Three-Season Sleeping Bag", "179.00", 9),
        ("Camp Chair", "59.00", 0),
        ("Inflatable Sleeping Pad", "99.00", 20),
        ("Headlamp 400", "39.00", 45),
        ("Lantern Duo", "44.00", 3),
        ("Camp Table", "79.00", 11),
        ("Hammock with Straps", "69.00", 16),
        ("Trekking Poles (pair)", "85.00", 0),
    ]
    for i, (name, price, stock) in enumerate(camping):
        items.append(
            DemoProduct(
                name,
                "Camping",
                BRANDS[(i + 3) % 5],
                price,
                f"{name}: tested on long weekends and longer trips.",
                stock=stock,
                backorder=name.startswith("Trekking"),
                featured=i in (0, 2),
                weight="1.500",
            )
        )
    kitchen = [
        ("Insulated Bottle 750 ml", "34.00", 60),
        ("Enamel Mug", "16.00", 80),
        ("Titanium Spork", "12.00", 100),
        ("Pour-Over Coffee Kit", "48.00", 5),
        ("Nesting Cook Set", "72.00", 10),
        ("Backpacking Stove", "54.00", 2),
        ("Collapsible Bowl", "14.00", 0),
        ("Cast Iron Skillet", "45.00", 13),
        ("Water Filter", "39.50", 27),
    ]
    for i, (name, price, stock) in enumerate(kitchen):
        items.append(
            DemoProduct(
                name,
                "Kitchen",
                BRANDS[(i + 4) % 5],
                price,
                f"{name}, made to be used every day and to last for years.",
                axes={"Color": COLORS} if name.startswith(("Insulated", "Enamel")) else {},
                stock=stock,
                featured=i == 0,
                weight="0.400",
            )
        )
    bags = [
        ("Daypack 24L", "89.00", 18),
        ("Roll-Top Commuter", "129.00", 7),
        ("Weekender Duffel", "149.00", 4),
        ("Canvas Tote", "35.00", 40),
        ("Hip Pack", "45.00", 0),
        ("Travel Backpack 40L", "179.00", 9),
        ("Dry Bag Set", "49.00", 22),
        ("Sling Bag", "55.00", 12),
    ]
    for i, (name, price, stock) in enumerate(bags):
        items.append(
            DemoProduct(
                name,
                "Bags",
                BRANDS[i % 5],
                price,
                f"The {name} carries what you need and nothing you don't.",
                axes={"Color": COLORS[:2]} if i % 3 == 0 else {},
                stock=stock,
                featured=i == 1,
                weight="0.900",
            )
        )
    accessories = [
        ("Wool Beanie", "28.00", 50),
        ("Trail Cap", "26.00", 33),
        ("Fleece Gloves", "32.00", 1),
        ("Merino Socks (3 pack)", "36.00", 70),
        ("Neck Gaiter", "18.00", 0),
        ("Sunglasses", "79.00", 8),
        ("Bandana", "9.50", 90),
        ("Gift Card", "50.00", 0),
        ("Leather Belt", "48.00", 15),
        ("Key Carabiner", "8.00", 120),
        ("Sticker Pack", "5.00", 0),
        ("Quick-Dry Camp Towel", "22.00", 26),
    ]
    for i, (name, price, stock) in enumerate(accessories):
        items.append(
            DemoProduct(
                name,
                "Accessories",
                BRANDS[(i + 1) % 5],
                price,
                f"{name}: the small thing that makes the day better.",
                axes={"Size": ["S/M", "L/XL"]} if name in ("Fleece Gloves", "Leather Belt") else {},
                stock=stock,
                track=name not in ("Gift Card", "Sticker Pack"),
                weight="0.100",
            )
        )
    return items


def _colour(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    hue = digest[0] * 360 // 256
    return f"hsl({hue}, 45%, 42%)"


def placeholder_svg(title: str, subtitle: str = "") -> bytes:
    """An 800x800 SVG: the product's name on a colour derived from it."""
    words = title.split()
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + len(word) < 16:
            lines[-1] += " " + word
        else:
            lines.append(word)
    text = "".join(
        f'<tspan x="400" dy="{0 if i == 0 else 70}">{escape(line)}</tspan>'
        for i, line in enumerate(lines[:4])
    )
    top = 400 - 35 * (len(lines[:4]) - 1)
    sub = (
        f'<text x="400" y="690" font-family="system-ui, sans-serif" font-size="36" '
        'fill="#ffffffcc" text-anchor="middle">'
        f"{escape(subtitle)}</text>"
        if subtitle
        else ""
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800" viewBox="0 0 800 800">'
        f'<rect width="800" height="800" fill="{_colour(title + subtitle)}"/>'
        '<circle cx="650" cy="150" r="90" fill="#ffffff22"/>'
        '<path d="M0 800 L260 480 L420 650 L560 500 L800 800 Z" fill="#00000026"/>'
        f'<text x="400" y="{top}" font-family="system-ui, sans-serif" font-size="60" '
        f'font-weight="700" fill="#fff" text-anchor="middle">{text}</text>{sub}</svg>'
    ).encode()


def _sku(product_slug: str, options: list[dict[str, str]]) -> str:
    base = "".join(part[:3] for part in product_slug.upper().split("-"))[:12]
    suffix = "-".join(slugify(o["value"]).upper() for o in options)
    return f"{base}-{suffix}" if suffix else base


def _combinations(axes: dict[str, list[str]]) -> list[list[dict[str, str]]]:
    combos: list[list[dict[str, str]]] = [[]]
    for axis, values in axes.items():
        combos = [[*c, {"name": axis, "value": v}] for c in combos for v in values]
    return combos


@dataclass(frozen=True)
class DemoVariant:
    """One seeded variant: its SKU, its product's spec and its place among the variants."""

    sku: str
    product: DemoProduct
    position: int


def demo_variants() -> list[DemoVariant]:
    """Every variant `seed_catalog` writes, in order."""
    return [
        DemoVariant(_sku(slugify(spec.name), options), spec, position)
        for spec in _products()
        for position, options in enumerate(_combinations(spec.axes))
    ]


def seed_catalog_summary() -> str:
    counts = seed_catalog()
    return (
        f"{counts['products']} products ({counts['created']} new), "
        f"{counts['categories']} categories, {counts['brands']} brands"
    )


@transaction.atomic
def seed_catalog() -> dict[str, int]:
    """Create or update the demo catalog; running it twice changes nothing the second time."""
    brands = {
        name: Brand.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
        for name in BRANDS
    }
    categories: dict[str, Category] = {}
    for position, (name, parent, description) in enumerate(CATEGORIES):
        categories[name], _ = Category.objects.update_or_create(
            slug=slugify(name),
            defaults={
                "name": name,
                "parent": categories.get(parent) if parent else None,
                "description": description,
                "position": position,
                "is_featured": parent is None,
            },
        )
    created = 0
    for spec in _products():
        slug = slugify(spec.name)
        product, was_created = Product.objects.update_or_create(
            slug=slug,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "category": categories[spec.category],
                "brand": brands[spec.brand],
                "base_price": Decimal(spec.price),
                "is_featured": spec.featured,
                "weight_kg": Decimal(spec.weight),
                "taxable": spec.name != "Gift Card",
                "requires_shipping": spec.name != "Gift Card",
                "seo_description": spec.description[:160],
            },
        )
        created += was_created
        for position, options in enumerate(_combinations(spec.axes)):
            # The largest size costs a little more, like real shops do.
            bump = any(o["value"] in ("XL", "L/XL", "44") for o in options)
            ProductVariant.objects.update_or_create(
                sku=_sku(slug, options),
                defaults={
                    "product": product,
                    "name": " / ".join(o["value"] for o in options),
                    "options": options,
                    "position": position,
                    "price_override": Decimal(spec.price) + Decimal("5.00") if bump else None,
                },
            )
        if not product.images.exists():
            image = ProductImage(
                product=product, alt_text=f"{spec.name} by {spec.brand}", is_primary=True
            )
            image.image.save(f"{slug}.svg", ContentFile(placeholder_svg(spec.name, spec.brand)))
    return {
        "products": Product.objects.count(),
        "created": created,
        "categories": Category.objects.count(),
        "brands": Brand.objects.count(),
    }
