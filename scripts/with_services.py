"""Run a command with PostgreSQL and Redis available, starting throwaway ones if needed.

    python scripts/with_services.py -- pytest -q

When DATABASE_URL and REDIS_URL are already set they are used as they are. Otherwise a
PostgreSQL cluster is initdb'd in a temporary directory and a redis-server started, each
on a free port, and both are stopped (and deleted) when the command ends. initdb and
postgres refuse to run as root, so under root they run as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str | None:
    for directory in PG_DIRS:
        candidate = directory / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def wait_for_port(port: int, what: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start listening on port {port} within {timeout:.0f}s")


def _as_postgres_user() -> tuple[list[str], int | None, int | None]:
    """Prefix to run a command as the postgres user when we are root."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise SystemExit("running as root needs a 'postgres' system user for initdb") from exc
    return ["runuser", "-u", "postgres", "--"], user.pw_uid, user.pw_gid


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    initdb, postgres = find_binary("initdb"), find_binary("postgres")
    if not initdb or not postgres:
        raise SystemExit(
            "PostgreSQL server binaries not found: install Debian's `postgresql` package "
            "(apt-get install -y postgresql) or set DATABASE_URL."
        )
    prefix, uid, gid = _as_postgres_user()
    root = Path(tempfile.mkdtemp(prefix="shop-pg-"))
    data = root / "data"
    if uid is not None and gid is not None:
        os.chown(root, uid, gid)
    port = free_port()
    subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    proc = subprocess.Popen(
        [
            *prefix,
            postgres,
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(root),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "postgres.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    try:
        wait_for_port(port, "postgres", proc)
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        proc.send_signal(signal.SIGINT)  # fast shutdown
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def throwaway_redis() -> Iterator[str]:
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit(
            "redis-server not found: install Debian's `redis-server` package "
            "(apt-get install -y redis-server) or set REDIS_URL."
        )
    root = Path(tempfile.mkdtemp(prefix="shop-redis-"))
    port = free_port()
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--databases",
            "64",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, "redis-server", proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__)
        return 2
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(throwaway_postgres())
            print(f"with_services: throwaway PostgreSQL at {env['DATABASE_URL']}", flush=True)
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(throwaway_redis())
            print(f"with_services: throwaway Redis at {env['REDIS_URL']}", flush=True)
        env.setdefault("CELERY_BROKER_URL", env["REDIS_URL"])
        proc = subprocess.Popen(argv, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
