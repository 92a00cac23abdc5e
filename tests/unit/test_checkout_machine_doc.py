"""docs/checkout.md shows the machine the code has: the committed section is what
`python manage.py checkout_machine_doc` generates."""

import pytest
from django.core.management import CommandError, call_command

from apps.checkout.machine import TRANSITIONS
from apps.checkout.management.commands.checkout_machine_doc import (
    BEGIN,
    END,
    doc_path,
    render_machine,
    updated,
)


def test_committed_doc_matches_the_generated_one() -> None:
    text = doc_path().read_text(encoding="utf-8")
    assert updated(text) == text, "run: python manage.py checkout_machine_doc"


def test_check_passes_on_the_committed_doc() -> None:
    call_command("checkout_machine_doc", "--check")


def test_a_stale_doc_is_detected_and_regenerated() -> None:
    text = doc_path().read_text(encoding="utf-8")
    stale = text.replace("| `guest_info` | `SUBMIT_GUEST_INFO` |", "| `guest_info` | `SUBMIT` |")
    assert stale != text
    assert updated(stale) == text


def test_every_transition_is_a_table_row() -> None:
    section = render_machine()
    for (state, event), transition in TRANSITIONS.items():
        assert f"| `{state.value}` | `{event.value}` | `{transition.target.value}` |" in section
    assert section.startswith(BEGIN)
    assert section.endswith(END)


def test_markers_are_required() -> None:
    with pytest.raises(CommandError):
        updated("# no markers here\n")
