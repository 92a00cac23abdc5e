"""`make run` stops everything it started: runserver (with its autoreloader child) and the
Stripe sandbox, on SIGTERM to make itself, on a signal to the launcher, or when one dies.

A Python launcher, not a bash trap: bash runs a trap only after its foreground command
(runserver) ends. These tests run the real launcher (scripts/run_dev.py) and the real
servers on free ports; only migrate/seed_demo are skipped (a stand-in python).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "run_dev.py"

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def processes_on(*ports: int) -> dict[int, str]:
    """Running (not zombie) processes whose command line names one of the ports."""
    found = {}
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit() or int(proc_dir.name) == os.getpid():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if any(f"127.0.0.1:{p} " in cmdline or f"--port {p} " in cmdline for p in ports):
            found[int(proc_dir.name)] = cmdline
    return found


def assert_all_running(web: int, sandbox: int) -> None:
    running = [cmd for cmd in processes_on(web, sandbox).values() if "python" in cmd.split()[0]]
    assert sum("runserver" in cmd for cmd in running) == 2  # and its autoreloader child
    assert sum("stripe_sandbox" in cmd for cmd in running) == 1


@pytest.fixture
def ports(tmp_path: Path) -> Iterator[tuple[int, int]]:
    web, sandbox = free_port(), free_port()
    yield web, sandbox
    for pid in processes_on(web, sandbox):  # never leave a server behind a failed test
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def demo_env(tmp_path: Path) -> dict[str, str]:
    """The launcher's servers on throwaway files: never the checkout's var/ databases."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_SETTINGS"))
    }
    return {
        **env,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STRIPE_SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"),
        "STRIPE_SECRET_KEY": "sk_test_sandbox_demo",
        "STRIPE_WEBHOOK_SECRET": "whsec_sandbox_demo",
    }


@contextlib.contextmanager
def serving(command: list[str], tmp_path: Path, ports: tuple[int, int]) -> Iterator[Popen[bytes]]:
    """Start `command` (make run or the launcher), wait until both servers listen, and make
    sure it is gone afterwards whatever the test did."""
    web, sandbox = ports
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=demo_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: listening(web) and listening(sandbox), "both servers")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def launcher_command(ports: tuple[int, int]) -> list[str]:
    web, sandbox = ports
    return [sys.executable, str(LAUNCHER), "--port", str(web), "--sandbox-port", str(sandbox)]


def test_sigterm_to_make_run_stops_runserver_and_the_sandbox(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    web, sandbox = ports
    python = tmp_path / "python"
    python.write_text(
        "#!/bin/sh\n"
        'case "$2" in migrate|seed_demo) exit 0;; esac\n'
        f'DATABASE_URL="sqlite:///{tmp_path}/db.sqlite3" exec {sys.executable} "$@"\n'
    )
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    command = ["make", "-s", "run", f"PY={python}", f"PORT={web}", f"SANDBOX_PORT={sandbox}"]
    with serving(command, tmp_path, ports) as make:
        assert_all_running(web, sandbox)
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=20)
        wait_for(lambda: not processes_on(web, sandbox), "both servers to stop", timeout=15)
        assert not listening(web)
        assert not listening(sandbox)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_the_launcher_stops_both(
    tmp_path: Path, ports: tuple[int, int], signum: int
) -> None:
    web, sandbox = ports
    with serving(launcher_command(ports), tmp_path, ports) as launcher:
        assert_all_running(web, sandbox)
        launcher.send_signal(signum)
        assert launcher.wait(timeout=20) == 128 + signum
        assert processes_on(web, sandbox) == {}


def test_when_one_server_dies_the_launcher_stops_the_other(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    web, sandbox = ports
    with serving(launcher_command(ports), tmp_path, ports) as launcher:
        (sandbox_pid,) = [
            pid for pid, cmd in processes_on(web, sandbox).items() if "stripe_sandbox" in cmd
        ]
        os.kill(sandbox_pid, signal.SIGKILL)
        assert launcher.wait(timeout=20) != 0
        assert processes_on(web, sandbox) == {}
