"""axe-core run inside the page: every browser test asserts no serious or critical violation.

The script is axe-core's own build as shipped (and pinned) by axe-playwright-python, read
from the installed package, so nothing is fetched while the tests run.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from playwright.sync_api import Page

# Impacts that fail a test; "minor" and "moderate" are left to review, not the build.
FAILING_IMPACTS = frozenset({"serious", "critical"})


@cache
def axe_script() -> str:
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (the whole document, default rules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_script())
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def serious_violations(page: Page) -> list[str]:
    """One line per failing node: rule id, impact, CSS target and axe's help text."""
    lines = []
    for violation in run_axe(page):
        if violation.get("impact") not in FAILING_IMPACTS:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(
                f"{violation['id']} ({violation['impact']}) at {target}: {violation['help']}"
            )
    return lines


def assert_no_serious_violations(page: Page, where: str = "") -> None:
    """Fail listing every serious or critical axe violation on the page."""
    found = serious_violations(page)
    label = where or page.url
    assert not found, f"axe on {label}:\n" + "\n".join(found)
