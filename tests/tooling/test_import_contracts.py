"""The import-linter contracts of pyproject.toml hold, and a wrong import breaks them.

Each case copies apps/ and stripe_sandbox/ to a scratch directory, adds one import there
and runs `lint-imports` on the copy, so the working tree is never touched.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    for package in ("apps", "stripe_sandbox"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_module(tree: Path, dotted: str, source: str) -> None:
    path = tree.joinpath(*dotted.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "__init__.py").touch()
    with path.open("a") as module:
        module.write(f"\n{source}\n")


def test_the_code_keeps_every_contract(scratch: Path) -> None:
    result = lint_imports(scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # Upward: catalog sits below cart.
        ("apps.catalog.selectors", "import apps.cart.models", "apps.catalog is not allowed"),
        # Siblings on one line: inventory and promotions.
        ("apps.inventory.selectors", "import apps.promotions.models", "apps.inventory is not"),
        ("apps.cart.selectors", "import apps.storefront.selectors", "apps.cart is not allowed"),
        # A lower app reaching the pages above it.
        ("apps.inventory.selectors", "import apps.storefront.views", "apps.inventory is not"),
        ("apps.cart.scratch", "import stripe", "apps is not allowed to import stripe"),
        ("apps.payments.services", "import stripe.checkout", "import stripe"),
        ("apps.core.scratch", "import stripe_sandbox", "import stripe_sandbox"),
        # A cycle inside an app: catalog's selectors read its models, so not the reverse.
        ("apps.catalog.models", "import apps.catalog.selectors", "No import cycles"),
    ],
)
def test_a_wrong_import_breaks_the_build(
    scratch: Path, module: str, source: str, broken: str
) -> None:
    add_module(scratch, module, source)
    result = lint_imports(scratch)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout


def test_the_payments_gateway_alone_may_import_stripe(scratch: Path) -> None:
    add_module(scratch, "apps.payments.gateway", "import stripe")
    add_module(scratch, "apps.payments.services", "from apps.payments import gateway")
    result = lint_imports(scratch)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_new_app_must_be_given_a_layer(scratch: Path) -> None:
    add_module(scratch, "apps.wishlist.models", "")
    result = lint_imports(scratch)
    assert result.returncode == 1
    assert "apps.wishlist" in result.stdout + result.stderr
