"""Plain helpers shared by the test suites (no fixtures: conftest files import these)."""

import ast
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Debian's Chromium; Playwright cannot download its own browsers here.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_launch_args() -> dict[str, object]:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def _origin_checkout() -> Path | None:
    """The checkout this one was cloned from, when cloned from a local path."""
    try:
        url = subprocess.run(
            ["git", "config", "--get", "remote.origin.url"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    path = Path(url) if url and "://" not in url and ":" not in url.split("/")[0] else None
    return path if path is not None and path.is_dir() else None


def shared_file(relative: str) -> Path:
    """A file of the project's shared/ folder (Stripe schemas, spec).

    shared/ sits beside the checkout (CI clones main next to it). A throwaway clone such as
    /tmp/fresh finds it beside the checkout it was cloned from. SHOP_SHARED_DIR overrides.
    """
    candidates = []
    if os.environ.get("SHOP_SHARED_DIR"):
        candidates.append(Path(os.environ["SHOP_SHARED_DIR"]))
    candidates.append(ROOT.parent / "shared")
    origin = _origin_checkout()
    if origin is not None:
        candidates.append(origin.resolve().parent / "shared")
    for directory in candidates:
        if (directory / relative).is_file():
            return directory / relative
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"shared/{relative} not found (looked in {tried}); set SHOP_SHARED_DIR")


@contextlib.contextmanager
def transaction_in_another_thread(
    body: Callable[[Callable[[], None]], None], *, join_timeout: float = 20
) -> Iterator[None]:
    """Run `body(locked)` in a thread, inside its own transaction on its own connection, as
    a concurrent request would. `body` calls `locked()` once it holds its row locks; the
    with-block runs from then on. On leaving, the thread is joined, and whatever it raised
    fails the test."""
    from django.db import connection, transaction

    locked = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                body(locked.set)
        except BaseException as exc:  # re-raised in the test's thread below
            failures.append(exc)
        finally:
            locked.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert locked.wait(10), "the other transaction never took its locks"
    try:
        yield
    finally:
        thread.join(join_timeout)
    assert not thread.is_alive(), "the other transaction never finished"
    assert not failures, failures


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a throwaway server."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def imports_of(module: str) -> set[str]:
    """Every module a project module imports (`import x` and `from x import y`), read from
    its source: the pure modules' tests check that no ORM or settings import creeps in."""
    source = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return imported


def database_url() -> str:
    """The DATABASE_URL of the database pytest-django made, for a server a test starts."""
    db = settings.DATABASES["default"]
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def stop_process(
    proc: subprocess.Popen[Any], sig: signal.Signals = signal.SIGTERM, timeout: float = 15
) -> None:
    """Stop a server a test started with `sig` (gunicorn stops at once on SIGINT), and kill
    it if it is still there after `timeout` seconds, so no test leaves one behind."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
