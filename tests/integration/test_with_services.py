"""scripts/with_services.py leaves nothing behind: no server process, no temp directory.

It used to start postgres through `runuser` as root and signal runuser on shutdown, so
every run orphaned a postgres server; and a SIGTERM (CI cancelling) skipped cleanup. These
tests run the real script around tiny commands and look for survivors in /proc.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "with_services.py"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not shutil.which("redis-server")
        or not (list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or shutil.which("initdb")),
        reason="needs the PostgreSQL and Redis server binaries (make test installs them)",
    ),
]

# The command checks that both services really answer, then reports its own pid.
PROBE = """
import os, sys, time, psycopg, redis
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    assert conn.execute("SELECT 1").fetchone() == (1,)
assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
print(f"child-pid={os.getpid()}", flush=True)
if len(sys.argv) > 1:
    time.sleep(float(sys.argv[1]))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("CELERY_BROKER_URL", None)
    return {**env, **extra}


Start = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start() -> Iterator[Start]:
    """Runs the script around PROBE; a script still running after the test is stopped."""
    started: list[subprocess.Popen[bytes]] = []

    def run(*args: str, **env: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--", sys.executable, "-c", PROBE, *args],
            cwd=ROOT,
            env=_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        started.append(proc)
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _read_until(proc: subprocess.Popen[bytes], marker: str, timeout: float = 15) -> str:
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} within {timeout}s; got {seen!r}"
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, f"script ended before {marker!r}; got {seen!r}"
            seen += chunk
    return seen.decode()


def _markers(output: str) -> tuple[list[str], list[str]]:
    """The servers' temp dirs and ports, from the lines the script prints."""
    dirs = re.findall(r"\((?:data in|dir) (/[^)]+)\)", output)
    ports = re.findall(r"throwaway \w+ at \w+://[^ ]*?:(\d+)/", output)
    assert len(ports) == 2, output
    return dirs, ports


def _survivors(output: str) -> list[str]:
    """Server processes of this run: postgres (and every backend it forks) chdirs to its
    data dir and redis to --dir, and both name their port on the command line."""
    dirs, ports = _markers(output)
    found = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit() or int(proc_dir.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(proc_dir / "cwd")
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        in_dir = any(cwd == d or cwd.startswith(d + "/") for d in dirs)
        on_port = "with_services" not in cmdline and any(
            f"-p {port} " in cmdline or f":{port}" in cmdline for port in ports
        )
        if in_dir or on_port:
            found.append(f"{proc_dir.name}: {cmdline}")
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_services_answer_and_are_gone_after_the_command_ends(start: Start) -> None:
    proc = start("1")
    output = _read_until(proc, "child-pid=")
    dirs, _ = _markers(output)
    assert len(_survivors(output)) >= 2, "both servers should run while the command runs"
    assert proc.wait(timeout=20) == 0, proc.stderr.read() if proc.stderr else ""
    assert _survivors(output) == []
    assert len(dirs) == 2
    assert not any(Path(d).exists() for d in dirs)


def test_sigterm_mid_run_stops_the_command_and_both_servers(start: Start) -> None:
    proc = start("60")
    output = _read_until(proc, "child-pid=")
    dirs, _ = _markers(output)
    child_pid = int(re.findall(r"child-pid=(\d+)", output)[0])
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 10
    assert not _pid_alive(child_pid)
    assert _survivors(output) == []
    assert len(dirs) == 2
    assert not any(Path(d).exists() for d in dirs)


@pytest.mark.skipif(os.geteuid() != 0, reason="the unreadable TMPDIR trick needs root")
def test_a_failed_start_prints_the_log_tail_and_keeps_the_log(start: Start) -> None:
    # As root, initdb runs as `postgres`, which cannot enter a root-only TMPDIR.
    with tempfile.TemporaryDirectory() as locked:
        os.chmod(locked, 0o700)
        proc = start(TMPDIR=locked)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 1
        stderr = err.decode()
        assert "last lines of" in stderr
        assert "Permission denied" in stderr
        kept = re.findall(r"its log is kept at (\S+\.log)", stderr)
        assert kept
        assert Path(kept[0]).exists()
        assert [p.name for p in Path(locked).iterdir()] == [Path(kept[0]).name]


def _gone_soon(pid: int, timeout: float = 5.0) -> bool:
    """An orphan killed with its group is reaped by init a moment later."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


# Services given: only the script's handling of its command is under test.
SERVICES_GIVEN = {**os.environ, "DATABASE_URL": "postgres://unused", "REDIS_URL": "redis://unused"}


def around_shell(script: str) -> list[str]:
    """with_services running a bash script as its command."""
    return [sys.executable, str(SCRIPT), "--", "bash", "-c", script]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_what_the_command_started_too(tmp_path: Path, signum: int) -> None:
    """The command's own children (pytest's stripe_sandbox server, a shell's background
    job) used to outlive a SIGTERM: only the command itself was signalled."""
    pidfile = tmp_path / "sleep.pid"
    proc = subprocess.Popen(
        around_shell(f"sleep 300 & echo $! > {pidfile}; wait"),
        cwd=ROOT,
        env=SERVICES_GIVEN,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the command never started its background job"
            time.sleep(0.05)
        sleep_pid = int(pidfile.read_text())
        assert _pid_alive(sleep_pid)
        proc.send_signal(signum)
        assert proc.wait(timeout=15) == 128 + signum
        assert _gone_soon(sleep_pid), "the command's background job survived"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pidfile.exists() and pidfile.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_processes_left_behind_by_a_finished_command_are_stopped(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleep.pid"
    proc = subprocess.run(
        around_shell(f"sleep 300 & echo $! > {pidfile}"),
        cwd=ROOT,
        env=SERVICES_GIVEN,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )
    sleep_pid = int(pidfile.read_text())
    try:
        assert proc.returncode == 0
        assert _gone_soon(sleep_pid), "a background job of the finished command survived"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(sleep_pid, signal.SIGKILL)


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6])
def test_sigterm_during_initdb_leaves_no_temp_dir(delay: float) -> None:
    """rmtree used to race initdb's bootstrap backend, which kept writing into the data
    directory it was deleting; the temp dir survived the run."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - as root, initdb runs as `postgres` and must enter it
        proc = subprocess.Popen(
            # A command that outlasts the test: on a fast machine initdb, both servers and
            # `true` finished before the signal at 0.6 s arrived.
            [sys.executable, str(SCRIPT), "--", "sleep", "30"],
            cwd=ROOT,
            env=_env(TMPDIR=tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 15
            while not list(Path(tmp).glob("shop-pg-*/data/base")):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "initdb never started"
                time.sleep(0.01)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            returncode = proc.wait(timeout=20)
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            assert returncode == 128 + signal.SIGTERM, stderr  # the script says what went wrong
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        left = sorted(p.name for p in Path(tmp).iterdir())
        survivors = []
        for proc_dir in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(proc_dir / "cwd").startswith(tmp):
                    survivors.append(proc_dir.name)
        assert left == [], left
        assert survivors == []
