"""Stock writes on PostgreSQL: ledger rows, and constraints the database itself enforces."""

import pytest
from django.db import IntegrityError, transaction

from apps.inventory import services
from apps.inventory.errors import InvalidStockChange
from apps.inventory.models import StockItem, StockMovement
from apps.inventory.selectors import sellable_stock, status_of, statuses_for_variants
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def stock_of(stock: int = 10, **kwargs: object) -> StockItem:
    return StockItem.objects.get(variant__product=make_product(stock=stock, **kwargs))  # type: ignore[arg-type]


def test_receipt_adds_units_and_records_a_movement() -> None:
    item = stock_of(4)
    services.change_on_hand(item.pk, delta=6, kind=StockMovement.Kind.RECEIPT, reference="PO-1")
    item.refresh_from_db()
    assert item.on_hand == 10
    movement = item.movements.get()
    assert (movement.kind, movement.on_hand_delta, movement.on_hand_after) == ("receipt", 6, 10)
    assert movement.reference == "PO-1"


def test_on_hand_never_goes_negative() -> None:
    item = stock_of(2)
    with pytest.raises(InvalidStockChange):
        services.change_on_hand(item.pk, delta=-3)
    item.refresh_from_db()
    assert item.on_hand == 2
    assert not item.movements.exists()


def test_cannot_drop_below_reserved_units() -> None:
    item = stock_of(5)
    StockItem.objects.filter(pk=item.pk).update(reserved=4)
    with pytest.raises(InvalidStockChange, match="reserved"):
        services.set_on_hand(item.pk, 3)
    assert services.set_on_hand(item.pk, 4).on_hand == 4


def test_stock_count_records_the_difference_once() -> None:
    item = stock_of(10)
    services.set_on_hand(item.pk, 7, note="cycle count")
    services.set_on_hand(item.pk, 7, note="cycle count")
    assert [m.on_hand_delta for m in item.movements.all()] == [-3]
    with pytest.raises(InvalidStockChange):
        services.set_on_hand(item.pk, -1)


@pytest.mark.parametrize(
    "update",
    [{"on_hand": -1}, {"reserved": -1}, {"reserved": 11}],
)
def test_database_check_constraints(update: dict[str, int]) -> None:
    item = stock_of(10)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(pk=item.pk).update(**update)


def test_backorder_may_reserve_beyond_on_hand() -> None:
    item = stock_of(1, allow_backorder=True)
    StockItem.objects.filter(pk=item.pk).update(reserved=5)
    item.refresh_from_db()
    assert item.available == -4


def test_statuses_for_variants_in_one_query(django_assert_num_queries) -> None:
    a = make_product(stock=10).variants.get()
    b = make_product(stock=0).variants.get()
    with django_assert_num_queries(1):
        statuses = statuses_for_variants([a.pk, b.pk, 999_999])
    assert statuses[a.pk].purchasable
    assert not statuses[b.pk].purchasable
    assert statuses[999_999].label == "Out of stock"


def test_update_stock_settings_writes_flags_and_count_but_never_reserved() -> None:
    item = stock_of(10)
    StockItem.objects.filter(pk=item.pk).update(reserved=4)
    stale = StockItem.objects.get(pk=item.pk)
    StockItem.objects.filter(pk=item.pk).update(reserved=6)  # a checkout, after the read
    services.update_stock_settings(
        stale.pk, allow_backorder=True, track_quantity=True, low_stock_threshold=1, counted=8
    )
    item.refresh_from_db()
    assert (item.on_hand, item.reserved, item.allow_backorder, item.low_stock_threshold) == (
        8,
        6,
        True,
        1,
    )
    movement = item.movements.get()
    assert (movement.on_hand_delta, movement.on_hand_after, movement.reserved_after) == (-2, 8, 6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"allow_backorder": False}, "5 units are reserved by open checkouts but only 2"),
        ({"allow_backorder": True, "counted": -1}, "cannot be negative"),
    ],
)
def test_update_stock_settings_refuses_what_the_constraints_refuse(
    change: dict[str, object], message: str
) -> None:
    item = stock_of(2, allow_backorder=True)
    StockItem.objects.filter(pk=item.pk).update(reserved=5)
    with pytest.raises(InvalidStockChange, match=message):
        services.update_stock_settings(
            item.pk,
            track_quantity=True,
            low_stock_threshold=5,
            **change,  # type: ignore[arg-type]
        )
    item.refresh_from_db()
    assert (item.allow_backorder, item.on_hand, item.reserved) == (True, 2, 5)
    assert not item.movements.exists()


def test_turning_backorder_on_and_counting_down_together_is_allowed() -> None:
    item = stock_of(5)
    StockItem.objects.filter(pk=item.pk).update(reserved=4)
    services.update_stock_settings(
        item.pk, allow_backorder=True, track_quantity=True, low_stock_threshold=5, counted=1
    )
    item.refresh_from_db()
    assert (item.on_hand, item.reserved, item.allow_backorder) == (1, 4, True)


def test_opening_stock_receives_its_units_once_through_the_ledger() -> None:
    variant = make_product(stock=1).variants.get()
    StockItem.objects.filter(variant=variant).delete()
    item, created = services.open_stock_item(
        variant, units=7, allow_backorder=True, track_quantity=True, low_stock_threshold=3
    )
    again, created_again = services.open_stock_item(
        variant, units=9, allow_backorder=False, track_quantity=False, low_stock_threshold=9
    )
    assert (created, created_again, again.pk) == (True, False, item.pk)
    item.refresh_from_db()
    assert (item.on_hand, item.allow_backorder, item.low_stock_threshold) == (7, True, 3)
    movement = item.movements.get()
    assert (movement.kind, movement.on_hand_delta, movement.on_hand_after) == ("receipt", 7, 7)


def test_opening_stock_without_units_writes_no_movement() -> None:
    variant = make_product(stock=1).variants.get()
    StockItem.objects.filter(variant=variant).delete()
    item, _ = services.open_stock_item(
        variant, units=0, allow_backorder=False, track_quantity=False, low_stock_threshold=5
    )
    assert (item.on_hand, item.track_quantity) == (0, False)
    assert not item.movements.exists()


@pytest.mark.parametrize(
    ("on_hand", "reserved", "track_quantity", "allow_backorder"),
    [
        (5, 0, True, False),
        (5, 5, True, False),
        (0, 0, True, False),
        (0, 0, True, True),
        (2, 4, True, True),
        (0, 0, False, False),
        (1, 3, False, False),
    ],
)
def test_sellable_stock_in_sql_agrees_with_the_purchasable_status(
    on_hand: int, reserved: int, track_quantity: bool, allow_backorder: bool
) -> None:
    """Listings flag and filter "in stock" in SQL; the product page uses StockStatus."""
    item = stock_of(0)
    StockItem.objects.filter(pk=item.pk).update(
        on_hand=on_hand,
        reserved=reserved,
        track_quantity=track_quantity,
        allow_backorder=allow_backorder,
    )
    item.refresh_from_db()
    assert sellable_stock().filter(pk=item.pk).exists() is status_of(item).purchasable
