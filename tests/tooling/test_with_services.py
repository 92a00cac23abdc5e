"""scripts/with_services.py leaves nothing behind: no server process, no temp directory.

Most tests run the real script around tiny commands and look for survivors in /proc; the
port-retry tests call its server context managers in-process, to hand them a taken port.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
import redis

from tests.support import stop_process

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
        stop_process(proc, timeout=20)
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
    job) are signalled with it, so none outlives the run."""
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


# What a process of the run is doing, told by its command line; a phase counts as reached
# once it or a later one is seen, so a phase too short to catch is not waited on forever.
PHASES = {"bootstrap": "--boot", "post-bootstrap": "--single", "server": "fsync=off"}


def _phase_reached(tmp: str) -> int:
    """The latest PHASES index seen among the processes working in `tmp`, or -1."""
    reached = -1
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            if not os.readlink(proc_dir / "cwd").startswith(tmp):
                continue
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        for index, marker in enumerate(PHASES.values()):
            if marker in cmdline:
                reached = max(reached, index)
    return reached


@pytest.mark.parametrize("phase", list(PHASES))
def test_sigterm_during_initdb_leaves_no_temp_dir(phase: str) -> None:
    """The signal goes out once a process of the phase is seen, so each case lands in the
    phase it names on any machine; rmtree must not race initdb's bootstrap backend, which
    writes into the directory being deleted."""
    target = list(PHASES).index(phase)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - as root, initdb runs as `postgres` and must enter it
        proc = subprocess.Popen(
            # The command outlasts the test, so every phase ends with the signal's exit code.
            [sys.executable, str(SCRIPT), "--", "sleep", "30"],
            cwd=ROOT,
            env=_env(TMPDIR=tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while _phase_reached(tmp) < target:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, f"{phase} never started"
                time.sleep(0.005)
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


def _load_script() -> ModuleType:
    """The script as a module (scripts/ is not a package), to call its context managers."""
    spec = importlib.util.spec_from_file_location("with_services_under_test", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def with_services() -> ModuleType:
    return _load_script()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process holds, as when one grabs it between choosing and binding."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def own_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The servers' dirs and logs go here, so the test sees all they leave behind."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - as root, initdb runs as `postgres` and must enter it
        monkeypatch.setattr(tempfile, "tempdir", tmp)
        yield Path(tmp)


def _taken_first(taken: int, module: ModuleType) -> tuple[Callable[[], int], list[int]]:
    """A port chooser that hands out the taken port first, then free ones; and its picks."""
    picks: list[int] = []

    def choose() -> int:
        port = taken if not picks else module.free_port()
        picks.append(port)
        return int(port)

    return choose, picks


def test_redis_started_on_a_taken_port_retries_on_a_fresh_one(
    with_services: ModuleType, taken_port: int, own_tmpdir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    choose, picks = _taken_first(taken_port, with_services)
    with with_services.throwaway_redis(choose_port=choose) as url:
        client = redis.Redis.from_url(url)
        try:
            assert client.ping()
        finally:
            client.close()
    assert picks[0] == taken_port
    assert len(picks) == 2
    assert url == f"redis://127.0.0.1:{picks[1]}/0"
    assert f"port {taken_port} was taken, trying another" in capfd.readouterr().err
    assert list(own_tmpdir.iterdir()) == []


def test_postgres_started_on_a_taken_port_retries_on_a_fresh_one(
    with_services: ModuleType, taken_port: int, own_tmpdir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    choose, picks = _taken_first(taken_port, with_services)
    with (
        with_services.throwaway_postgres(choose_port=choose) as url,
        psycopg.connect(url) as conn,
    ):
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert picks[0] == taken_port
    assert len(picks) == 2
    assert url == f"postgres://postgres@127.0.0.1:{picks[1]}/postgres"
    assert f"port {taken_port} was taken, trying another" in capfd.readouterr().err
    assert list(own_tmpdir.iterdir()) == []


def test_port_retries_are_bounded(
    with_services: ModuleType, taken_port: int, own_tmpdir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    picks: list[int] = []

    def always_taken() -> int:
        picks.append(taken_port)
        return taken_port

    with (
        pytest.raises(with_services.StartupError, match="its log is kept"),
        with_services.throwaway_redis(choose_port=always_taken),
    ):
        pytest.fail("redis-server cannot have started")
    assert len(picks) == with_services.PORT_ATTEMPTS
    assert "every port tried was in use" in capfd.readouterr().err
    assert [p.name.startswith("shop-redis-") for p in own_tmpdir.iterdir()] == [True]


def test_a_failure_other_than_a_taken_port_is_not_retried(
    with_services: ModuleType, own_tmpdir: Path
) -> None:
    picks: list[int] = []

    def out_of_range() -> int:
        picks.append(70000)
        return 70000

    with (
        pytest.raises(with_services.StartupError, match="exited with code"),
        with_services.throwaway_redis(choose_port=out_of_range),
    ):
        pytest.fail("redis-server cannot have started")
    assert picks == [70000]
