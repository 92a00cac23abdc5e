"""The test harness: run a command with PostgreSQL and Redis, starting throwaway ones.

    python scripts/with_services.py -- pytest -q

`make test` runs pytest through this script, `make bench` its benchmarks. Before it,
`make test` installs requirements-dev.txt, makes sure the PostgreSQL server, `redis-server`
and Debian's Chromium are there (as root it installs them with apt-get, otherwise it prints
the apt-get line; a server whose URL is given is not needed) and runs the linters; with
CI=true pytest gets `--create-db`.

Which servers. The command gets DATABASE_URL and REDIS_URL (and CELERY_BROKER_URL, which
defaults to REDIS_URL). A variable already set in the environment is used as it is, and
that server's package is then not needed; otherwise a throwaway server is started for it:
a PostgreSQL cluster initdb'd in a temporary directory (`shop-pg-*`; trust auth, user
`postgres`, fsync off) and a redis-server without persistence (`shop-redis-*`, 64
databases), each on a free 127.0.0.1 port. A port taken by another process between
choosing and binding it (the server's log says so) is retried on a fresh one, up to
PORT_ATTEMPTS times. The URLs are printed (`with_services: throwaway PostgreSQL at ...`).

Root or not. initdb and postgres refuse to run as root, so under root they are started
directly as the `postgres` system user (no `runuser` in between, so the pid here is the
server's own and stopping it is a fast shutdown of that pid); without root they run as the
caller. redis-server runs as the caller either way.

Started means answering. A server counts as up once it answers as itself (`SELECT 1` on a
connection to its own data directory; `PING` from its own process id), never merely an
open port. When one fails to start, the tail of its log is printed and the log file is
kept (its path is printed); the script exits 1.

Signals. The command runs in its own session, so its process group holds whatever it
starts (the sandbox server pytest launches, a shell's background job). When the command
ends, or this script gets SIGINT, SIGTERM or SIGHUP (Ctrl-C; CI cancelling a job), the
whole group is signalled: a SIGINT is passed on as SIGINT first, then SIGTERM, then
SIGKILL after a grace period (INTERRUPT_GRACE, CHILD_GRACE); processes the command left
behind when it ended on its own get the same. Then both servers are shut down and their
directories deleted. A signal during initdb kills it with its bootstrap backend and waits
for them before the directory is removed. A signal that arrives while cleaning up waits
for the cleanup. The exit code is the command's, or 128 + the signal number.

Leftovers. None on any of those paths: no server process, no temporary directory; only the
log of a server that failed to start is kept. Should this script itself be killed with
SIGKILL, the servers still stop (the kernel's parent-death signal); their temporary
directories are then left in TMPDIR.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

PG_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
STARTUP_TIMEOUT = 30.0
# How long the command gets to finish after SIGTERM, before it is killed; after a SIGINT
# passed on, before SIGTERM; and what it left behind after it ended, before the next signal.
CHILD_GRACE = 20.0
INTERRUPT_GRACE = 5.0
LEFTOVER_GRACE = 2.0
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1
# A free port can be taken by another process before the server binds it; only that
# failure is retried, on a fresh port, a bounded number of times.
PORT_ATTEMPTS = 3
PORT_IN_USE_MARKERS = ("could not bind", "Address already in use")


class Interrupted(Exception):
    """Raised in the main thread by the first SIGINT/SIGTERM/SIGHUP, to unwind and clean up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StartupError(Exception):
    """A server did not come up; the message says which and where its log is."""


class PortInUse(Exception):
    """The server exited because its port was taken between choosing and binding it."""


@dataclass
class SignalState:
    """The first signal unwinds the script once; later ones (and any during cleanup) wait."""

    received: int | None = None
    shielded: bool = False
    previous: dict[int, Any] = field(default_factory=dict)

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signum
        if not self.shielded:
            raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A signal arriving inside is acted on at the end, once whatever was started in
        between has been registered for cleanup."""
        self.shielded = True
        try:
            yield
        finally:
            self.shielded = False
        if self.received is not None:
            raise Interrupted(self.received)

    def install(self) -> None:
        for signum in HANDLED_SIGNALS:
            self.previous[signum] = signal.signal(signum, self.handler)

    def restore(self) -> None:
        for signum, previous in self.previous.items():
            signal.signal(signum, previous)


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


def _die_with_parent(signum: int) -> Callable[[], None]:
    """preexec_fn: the kernel sends `signum` to the process if this script dies, even by
    SIGKILL, so a server never outlives its harness. Runs after the uid switch, which
    would clear it if set earlier. (Linux only; elsewhere a no-op.)"""

    def preexec() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)

    return preexec


def _postgres_user() -> dict[str, Any]:
    """Popen arguments that run initdb/postgres as the postgres user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise SystemExit("running as root needs a 'postgres' system user for initdb") from exc
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(could not read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _report_startup_failure(what: str, log: Path, reason: str) -> StartupError:
    sys.stderr.write(
        f"with_services: {what} failed to start: {reason}\n"
        f"--- last lines of {log} ---\n{log_tail(log)}\n--- end of {what} log ---\n"
    )
    sys.stderr.flush()
    return StartupError(f"{what} failed to start ({reason}); its log is kept at {log}")


def stop_process(proc: subprocess.Popen[bytes], first: int, grace: float) -> None:
    """Signal `first`, wait `grace` seconds, then SIGQUIT briefly, then SIGKILL."""
    for signum, timeout in ((first, grace), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)


def _log_since(log: Path, offset: int) -> str:
    """What the server wrote in this attempt: the log file is shared by all attempts."""
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _wait_until_ready(
    what: str,
    proc: subprocess.Popen[bytes],
    probe: Callable[[], bool],
    log: Path,
    log_offset: int = 0,
) -> None:
    """Return once `probe` answers; raise PortInUse when the server exited because its
    port was taken, StartupError for any other exit or a timeout."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        # Sleeping first lets a server that cannot bind exit before the probe knocks on a
        # port that someone else holds.
        time.sleep(0.1)
        if proc.poll() is not None:
            if any(marker in _log_since(log, log_offset) for marker in PORT_IN_USE_MARKERS):
                raise PortInUse(what)
            raise _report_startup_failure(what, log, f"exited with code {proc.returncode}")
        if probe():
            return
    raise _report_startup_failure(what, log, f"not answering after {STARTUP_TIMEOUT:.0f}s")


def _start_on_a_free_port(
    what: str,
    start: Callable[[int], subprocess.Popen[bytes]],
    probe: Callable[[int, subprocess.Popen[bytes]], bool],
    log: Path,
    started: list[subprocess.Popen[bytes]],
    choose_port: Callable[[], int],
) -> int:
    """Start the server on a port from `choose_port` and return the port once it answers.

    Each process is appended to `started` before it is waited for, so the caller's cleanup
    stops it whatever happens. A start that lost its port to another process is retried on
    a fresh one, up to PORT_ATTEMPTS times; any other failure raises StartupError at once.
    """
    ports: list[int] = []
    while len(ports) < PORT_ATTEMPTS:
        port = choose_port()
        ports.append(port)
        offset = log.stat().st_size if log.exists() else 0
        proc = start(port)
        started.append(proc)
        try:
            _wait_until_ready(what, proc, functools.partial(probe, port, proc), log, offset)
        except PortInUse:
            sys.stderr.write(f"with_services: {what}: port {port} was taken, trying another\n")
            continue
        return port
    tried = ", ".join(str(port) for port in ports)
    raise _report_startup_failure(what, log, f"every port tried was in use ({tried})")


def postgres_answers(url: str, data: Path | None = None) -> bool:
    """Ready means a real connection runs a query, not merely an open TCP port; given
    `data`, the server must be the one serving that directory, not another one that holds
    the port this one failed to bind."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT current_setting('data_directory')").fetchone()
    except psycopg.Error:
        return False
    return row is not None and (data is None or os.path.realpath(row[0]) == os.path.realpath(data))


def redis_answers(port: int, pid: int | None = None) -> bool:
    """Ready means PING answers PONG (not LOADING, not a refused connection); given `pid`,
    the server must be that process, not another one holding the port."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries inside the client: the caller's loop retries, and checks the process between.
    client = redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        if not client.ping():
            return False
        return pid is None or int(client.info("server")["process_id"]) == pid
    except redis.RedisError:
        return False
    finally:
        client.close()


def _new_log(prefix: str) -> Path:
    """A log file outside the temp dir, so it can outlive a failed start."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    os.close(fd)
    return Path(name)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed uid; it is still there
        return True
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_group(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until the command and every process left in its group have gone. Once the
    command itself has ended, what it left behind gets at most LEFTOVER_GRACE more."""
    deadline = time.monotonic() + timeout
    leader_gone = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if not _group_alive(proc.pid):
                return True
            if not leader_gone:
                leader_gone = True
                deadline = min(deadline, time.monotonic() + LEFTOVER_GRACE)
        time.sleep(0.05)
    return False


def _run_in_own_group(argv: list[str], **popen_kwargs: Any) -> None:
    """Run `argv` to completion in its own session, raising CalledProcessError on failure.

    initdb forks a bootstrap backend that keeps writing into the data directory; when we
    are interrupted meanwhile, its whole group is killed and waited for before the caller's
    cleanup deletes that directory (killing initdb alone would leave the backend writing).
    """
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent(signal.SIGKILL),
        **popen_kwargs,
    )
    try:
        returncode = proc.wait()
    except BaseException:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        _wait_group(proc, 5.0)
        raise
    if returncode:
        raise subprocess.CalledProcessError(returncode, argv)


def _postgres_url(port: int) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/postgres"


@contextlib.contextmanager
def throwaway_postgres(choose_port: Callable[[], int] = free_port) -> Iterator[str]:
    initdb, postgres = find_binary("initdb"), find_binary("postgres")
    if not initdb or not postgres:
        raise SystemExit(
            "PostgreSQL server binaries not found: install Debian's `postgresql` package "
            "(apt-get install -y postgresql) or set DATABASE_URL."
        )
    as_postgres = _postgres_user()
    root = Path(tempfile.mkdtemp(prefix="shop-pg-"))
    data = root / "data"
    log = _new_log("shop-pg-")
    if as_postgres:
        os.chown(root, as_postgres["user"], as_postgres["group"])
    started: list[subprocess.Popen[bytes]] = []
    keep_log = False
    try:
        with log.open("ab") as out:
            try:
                _run_in_own_group(
                    [
                        initdb,
                        *("-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
                        *("--no-sync", "--locale=C.UTF-8"),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=root,
                    **as_postgres,
                )
            except subprocess.CalledProcessError as exc:
                keep_log = True
                raise _report_startup_failure(
                    "initdb", log, f"exited with code {exc.returncode}"
                ) from exc

        def start(port: int) -> subprocess.Popen[bytes]:
            with log.open("ab") as out:
                return subprocess.Popen(
                    [
                        postgres,
                        *("-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(root)),
                        *("-c", "fsync=off", "-c", "synchronous_commit=off"),
                        *("-c", "full_page_writes=off", "-c", "max_connections=200"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=root,
                    start_new_session=True,  # a terminal's Ctrl-C must not reach it
                    preexec_fn=_die_with_parent(signal.SIGINT),
                    **as_postgres,
                )

        def answers(port: int, proc: subprocess.Popen[bytes]) -> bool:
            return postgres_answers(_postgres_url(port), data)

        try:
            port = _start_on_a_free_port("postgres", start, answers, log, started, choose_port)
        except StartupError:
            keep_log = True
            raise
        url = _postgres_url(port)
        print(f"with_services: throwaway PostgreSQL at {url} (data in {root})", flush=True)
        yield url
    finally:
        for proc in started:
            stop_process(proc, signal.SIGINT, grace=15.0)  # SIGINT: fast shutdown
        shutil.rmtree(root, ignore_errors=True)
        if not keep_log:
            log.unlink(missing_ok=True)


@contextlib.contextmanager
def throwaway_redis(choose_port: Callable[[], int] = free_port) -> Iterator[str]:
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit(
            "redis-server not found: install Debian's `redis-server` package "
            "(apt-get install -y redis-server) or set REDIS_URL."
        )
    root = Path(tempfile.mkdtemp(prefix="shop-redis-"))
    log = _new_log("shop-redis-")
    started: list[subprocess.Popen[bytes]] = []
    keep_log = False

    def start(port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                server,
                *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", str(root), "--databases", "64", "--logfile", str(log)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent(signal.SIGTERM),
        )

    def answers(port: int, proc: subprocess.Popen[bytes]) -> bool:
        return redis_answers(port, proc.pid)

    try:
        try:
            port = _start_on_a_free_port("redis-server", start, answers, log, started, choose_port)
        except StartupError:
            keep_log = True
            raise
        url = f"redis://127.0.0.1:{port}/0"
        print(f"with_services: throwaway Redis at {url} (dir {root})", flush=True)
        yield url
    finally:
        for proc in started:
            stop_process(proc, signal.SIGTERM, grace=10.0)
        shutil.rmtree(root, ignore_errors=True)
        if not keep_log:
            log.unlink(missing_ok=True)


def stop_command(proc: subprocess.Popen[bytes], state: SignalState) -> None:
    """Make sure the command, and everything it started, has ended before its services go.

    The command runs in its own session, so its process group holds whatever it started
    (pytest's stripe_sandbox server, `sleep &` in a shell) and the whole group is
    signalled. After our SIGINT (a terminal's Ctrl-C does not reach the command's own
    group) it gets SIGINT first, for INTERRUPT_GRACE; then SIGTERM for CHILD_GRACE; then
    SIGKILL. Processes the command left running when it ended on its own get the same.
    """
    pgid = proc.pid  # start_new_session: the command leads its own group
    steps = [(signal.SIGTERM, CHILD_GRACE), (signal.SIGKILL, 5.0)]
    if state.received == signal.SIGINT:
        steps.insert(0, (signal.SIGINT, INTERRUPT_GRACE))
    for signum, grace in steps:
        if proc.poll() is not None and not _group_alive(pgid):
            return
        _signal_group(pgid, signum)
        if _wait_group(proc, grace):
            return
    proc.wait()


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__)
        return 2
    env = dict(os.environ)
    state = SignalState()
    state.install()
    try:
        with contextlib.ExitStack() as stack:
            try:
                if not env.get("DATABASE_URL"):
                    env["DATABASE_URL"] = stack.enter_context(throwaway_postgres())
                if not env.get("REDIS_URL"):
                    env["REDIS_URL"] = stack.enter_context(throwaway_redis())
                env.setdefault("CELERY_BROKER_URL", env["REDIS_URL"])
                with state.deferred():  # no gap between starting the command and owning it
                    proc = subprocess.Popen(
                        argv,
                        env=env,
                        start_new_session=True,  # own group: stop_command reaches its children
                        preexec_fn=_die_with_parent(signal.SIGTERM),
                    )
                    stack.callback(stop_command, proc, state)
                returncode = proc.wait()
            finally:
                # From here on a signal only waits for the cleanup, it cannot cut it short.
                state.shielded = True
        if state.received is not None:  # it landed during cleanup: the run was still cut short
            raise Interrupted(state.received)
        return returncode
    except Interrupted as exc:
        print(f"with_services: stopped by {exc}, services removed", file=sys.stderr)
        return 128 + exc.signum
    except StartupError as exc:
        print(f"with_services: {exc}", file=sys.stderr)
        return 1
    finally:
        state.restore()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
