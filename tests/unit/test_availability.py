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
