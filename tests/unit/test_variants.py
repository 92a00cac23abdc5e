from dataclasses import dataclass, field

import pytest

from apps.catalog.variants import (
    OptionAxis,
    option_axes,
    option_errors,
    option_map,
    select_variant,
)


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


# --- Stored options: read tolerantly, validated strictly -----------------------------------

GOOD = [{"name": "Size", "value": "M"}, {"name": "Color", "value": "Navy"}]

MALFORMED: list[object] = [
    None,
    "Size: M",
    {"Size": "M"},
    [["Size", "M"]],
    ["Size"],
    [{"name": "Size"}],
    [{"value": "M"}],
    [{"name": "Size", "value": "M", "extra": 1}],
    [{"name": "", "value": "M"}],
    [{"name": "Size", "value": "   "}],
    [{"name": 3, "value": "M"}],
    [{"name": "Size", "value": None}],
    [{"name": "Size", "value": ["M"]}],
    [{"name": "Size", "value": "M"}, {"name": "size", "value": "L"}],
    [{"name": "S" * 51, "value": "M"}],
]


def test_option_map_keeps_stored_order() -> None:
    assert list(option_map(GOOD).items()) == [("Size", "M"), ("Color", "Navy")]
    assert option_map([]) == {}


@pytest.mark.parametrize("options", MALFORMED)
def test_option_map_never_raises_on_malformed_data(options: object) -> None:
    result = option_map(options)
    assert all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in result.items())


def test_option_map_skips_only_the_bad_entries() -> None:
    stored = [
        {"name": "Size", "value": "M"},
        {"nom": "Color"},
        "junk",
        {"name": "size", "value": "XL"},  # a repeat of Size: the first one wins
        {"name": "Length", "value": 32},  # a number stored by hand is still readable
        {"name": "Fit", "value": True},
        {"name": " Color ", "value": " Navy "},
    ]
    assert option_map(stored) == {"Size": "M", "Length": "32", "Color": "Navy"}


def test_axes_and_selection_survive_malformed_variants() -> None:
    @dataclass
    class Stored:
        pk: int
        options: object

        def option_map(self) -> dict[str, str]:
            return option_map(self.options)

    variants = [Stored(1, GOOD), Stored(2, {"bad": "shape"}), Stored(3, [{"name": "Size"}])]
    assert option_axes(variants) == [OptionAxis("Size", ("M",)), OptionAxis("Color", ("Navy",))]
    assert select_variant(variants, {"o_Size": "M"}) == (variants[0], True)


def test_option_errors_accepts_well_formed_options() -> None:
    assert option_errors(GOOD) == []
    assert option_errors([]) == []


@pytest.mark.parametrize("options", MALFORMED)
def test_option_errors_reports_malformed_options(options: object) -> None:
    assert option_errors(options)


def test_option_errors_names_the_duplicate() -> None:
    errors = option_errors([{"name": "Size", "value": "M"}, {"name": "size", "value": "L"}])
    assert errors == ['Option 2: the option "size" is given twice.']
