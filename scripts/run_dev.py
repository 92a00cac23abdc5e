"""`make run`'s last step: the dev server and the Stripe sandbox, started and stopped together.

    python scripts/run_dev.py --host 127.0.0.1 --port 8000 --sandbox-port 12111

Both run as children of this script, each in its own session (runserver's autoreloader
forks a second process; signalling the group reaches it). SIGINT, SIGTERM or SIGHUP here
(Ctrl-C, `kill <make pid>`: make passes SIGTERM on to its recipe, which is this script)
stops both, and when either one exits the other is stopped too, so neither is ever left
holding its port. The sandbox reads its keys from STRIPE_SECRET_KEY and
STRIPE_WEBHOOK_SECRET, which `make run` sets.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_GRACE = 10.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """preexec_fn: the kernel sends SIGTERM to the child if this script dies, even by
    SIGKILL. (Linux only; elsewhere a no-op.)"""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def stop(children: dict[str, subprocess.Popen[bytes]], signum: int) -> None:
    """Signal every child's group, wait up to STOP_GRACE, then SIGKILL what is left."""
    for proc in children.values():
        _signal_group(proc.pid, signum)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        for proc in children.values():
            proc.poll()
        if not any(_group_alive(proc.pid) for proc in children.values()):
            return
        time.sleep(0.05)
    for proc in children.values():
        _signal_group(proc.pid, signal.SIGKILL)
    for proc in children.values():
        proc.wait()


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sandbox-port", type=int, default=12111)
    parser.add_argument(
        "--sandbox-db",
        default=os.environ.get("STRIPE_SANDBOX_DB") or str(ROOT / "var" / "stripe_sandbox.sqlite3"),
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        default=not (ROOT / "stripe_sandbox").is_dir(),
        help="only the dev server (the default when stripe_sandbox/ is absent)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    for signum in HANDLED_SIGNALS:
        signal.signal(signum, on_signal)

    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        if not args.no_sandbox:
            print(f"Stripe sandbox on http://{args.host}:{args.sandbox_port}", flush=True)
            children["stripe_sandbox"] = _start(
                [
                    sys.executable,
                    *("-m", "stripe_sandbox", "--host", args.host),
                    *("--port", str(args.sandbox_port), "--db", args.sandbox_db),
                    "--webhook-url",
                    f"http://{args.host}:{args.port}/payments/webhooks/stripe/",
                ]
            )
        if not received:
            children["runserver"] = _start(
                [sys.executable, "manage.py", "runserver", f"{args.host}:{args.port}"]
            )
        while not received:
            ended = [name for name, proc in children.items() if proc.poll() is not None]
            if ended:
                name = ended[0]
                code = children[name].returncode
                print(f"run_dev: {name} exited ({code}); stopping the rest", file=sys.stderr)
                stop(children, signal.SIGTERM)
                return code or 1
            time.sleep(0.1)
    finally:
        if received or any(p.poll() is None for p in children.values()):
            # Ctrl-C reaches only this script (the children have their own sessions): pass
            # SIGINT on as SIGINT, anything else as SIGTERM.
            first = received[0] if received else signal.SIGTERM
            stop(children, signal.SIGINT if first == signal.SIGINT else signal.SIGTERM)
    return 128 + received[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
