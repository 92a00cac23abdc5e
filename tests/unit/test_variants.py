from dataclasses import dataclass, field

from apps.catalog.variants import OptionAxis, option_axes, select_variant


@dataclass
class V:
    pk: int
    options: dict[str, str] = field(default_factory=dict)

    def option_map(self) -> dict[str, str]:
        return self.options


SHIRTS = [
    V(1, {"Size": "S", "Color": "Navy"}),
    V(2, {"Size": "M", "Color": "Navy"}),
    V(3, {"Size": "M", "Color": "Sand"}),
]


def test_axes_keep_first_seen_order() -> None:
    assert option_axes(SHIRTS) == [
        OptionAxis("Size", ("S", "M")),
        OptionAxis("Color", ("Navy", "Sand")),
    ]
    assert option_axes([V(9)]) == []


def test_select_by_options() -> None:
    assert select_variant(SHIRTS, {"o_Size": "M", "o_Color": "Sand"}) == (SHIRTS[2], True)


def test_select_by_partial_options_takes_first_match() -> None:
    assert select_variant(SHIRTS, {"o_Size": "M"}) == (SHIRTS[1], True)


def test_select_by_variant_id() -> None:
    assert select_variant(SHIRTS, {"variant": "3"}) == (SHIRTS[2], True)


def test_unknown_choice_falls_back_and_says_so() -> None:
    assert select_variant(SHIRTS, {"o_Size": "S", "o_Color": "Sand"}) == (SHIRTS[0], False)
    assert select_variant(SHIRTS, {"variant": "999"}) == (SHIRTS[0], False)
    assert select_variant(SHIRTS, {"variant": "'; drop"}) == (SHIRTS[0], False)


def test_no_choice_is_first_variant() -> None:
    assert select_variant(SHIRTS, {}) == (SHIRTS[0], True)
    assert select_variant([], {}) == (None, True)
