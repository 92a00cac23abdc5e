import pytest

from apps.inventory.availability import StockState, stock_status


def status(on_hand: int, reserved: int = 0, *, track: bool = True, backorder: bool = False):
    return stock_status(
        on_hand=on_hand,
        reserved=reserved,
        track_quantity=track,
        allow_backorder=backorder,
        low_stock_threshold=5,
    )


@pytest.mark.parametrize(
    ("on_hand", "reserved", "state", "label"),
    [
        (20, 0, StockState.IN_STOCK, "In stock"),
        (20, 14, StockState.IN_STOCK, "In stock"),  # 6 available, threshold is 5
        (5, 0, StockState.LOW_STOCK, "Only 5 left"),
        (8, 5, StockState.LOW_STOCK, "Only 3 left"),
        (0, 0, StockState.OUT_OF_STOCK, "Out of stock"),
        (4, 4, StockState.OUT_OF_STOCK, "Out of stock"),
    ],
)
def test_states_and_labels(on_hand: int, reserved: int, state: StockState, label: str) -> None:
    result = status(on_hand, reserved)
    assert result.state is state
    assert result.label == label


def test_available_is_on_hand_minus_reserved() -> None:
    assert status(10, 3).available == 7


def test_backorder_when_sold_out_but_allowed() -> None:
    result = status(0, backorder=True)
    assert result.state is StockState.BACKORDER
    assert result.purchasable
    assert result.allows(50)
    assert result.label == "Available on backorder"


def test_untracked_is_always_in_stock() -> None:
    result = status(0, track=False)
    assert result.state is StockState.IN_STOCK
    assert result.available is None
    assert result.allows(99)


def test_allows_checks_quantity_against_available() -> None:
    result = status(3)
    assert result.allows(3)
    assert not result.allows(4)
    assert not status(0).purchasable


def test_backorder_allows_more_than_on_hand_even_while_units_remain() -> None:
    """A backorderable variant with stock left is not capped at on_hand."""
    for result in (
        status(3, backorder=True),
        status(20, backorder=True),
        status(8, 5, backorder=True),
    ):
        assert result.allows(50)
        assert result.allows(99)
        assert result.cap is None
        assert result.limit(99) == 99
    assert status(3, backorder=True).state is StockState.LOW_STOCK  # still told what is on hand


def test_untracked_has_no_cap_and_limit_is_the_ceiling() -> None:
    result = status(0, track=False)
    assert result.cap is None
    assert result.limit(99) == 99
    assert result.allows(1000)


def test_cap_and_limit_follow_available_when_tracked_without_backorder() -> None:
    assert status(3).cap == 3
    assert status(3).limit(99) == 3
    assert status(200).limit(99) == 99
    sold_out = status(0)
    assert sold_out.cap == 0
    assert sold_out.limit(99) == 0
    assert not sold_out.allows(1)
