"""`make test` / `make run` prerequisites: what the Makefile installs or asks for.

System tools are Makefile variables, so these tests point apt-get at a fake that only
records its arguments (nothing is installed) and the binaries at paths that do not exist.
"""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = os.geteuid() == 0

pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="needs GNU make")


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _make(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], str]:
    log = tmp_path / "apt.log"
    apt = _script(tmp_path / "apt-get", f'echo "$@" >> {log}\n')
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", f"APT_GET={apt}", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, log.read_text() if log.exists() else ""


MISSING = (
    "REDIS_SERVER=/nonexistent/redis-server",
    "PG_BIN_GLOB=/nonexistent/*/postgres",
    "POSTGRES=/nonexistent/postgres",
)
# Chromium and nginx stand-ins, so what the machine has installed never changes the outcome.
PRESENT = ("CHROMIUM_PATH=/bin/sh", "NGINX_PATH=/bin/sh")


def test_no_database_or_redis_packages_when_their_urls_are_set(tmp_path: Path) -> None:
    result, apt = _make(
        tmp_path,
        "test-system-deps",
        *MISSING,
        *PRESENT,
        DATABASE_URL="postgres://postgres@db.example:5432/shop",
        REDIS_URL="redis://cache.example:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert apt == ""


def test_missing_servers_are_installed_or_named_without_urls(tmp_path: Path) -> None:
    result, apt = _make(tmp_path, "test-system-deps", *MISSING, *PRESENT)
    if IS_ROOT:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "install -y -qq postgresql redis-server" in apt
    else:
        assert result.returncode != 0
        assert "sudo apt-get install -y postgresql redis-server" in result.stdout


def test_a_python_without_venv_gets_the_exact_package_to_install(tmp_path: Path) -> None:
    # Like Debian's python3.11 without python3.11-venv: `-m venv` half-creates the
    # directory, then fails on ensurepip.
    python = _script(
        tmp_path / "python3.11",
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        '  mkdir -p "$3/bin" && touch "$3/bin/python"\n'
        '  echo "ensurepip is not available" >&2; exit 1\n'
        "fi\n",
    )
    venv = tmp_path / "venv"
    result, apt = _make(
        tmp_path, f"VENV={venv}", f"PYTHON_BIN={python}", f"{venv}/.installed-runtime"
    )
    assert result.returncode != 0
    assert "apt-get install -y python3.11-venv" in result.stdout
    assert not venv.exists(), "a half-made venv would make the next run skip creating it"
    if IS_ROOT:
        assert "install -y -qq python3.11-venv" in apt


def _run_env_log(tmp_path: Path, *args: str, **env: str) -> list[str]:
    """`make run` with a stand-in python that records the data stores each step gets."""
    log = tmp_path / "python.log"
    python = _script(
        tmp_path / "python",
        f'echo "DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL '
        f'BROKER=$CELERY_BROKER_URL EAGER=$CELERY_TASK_ALWAYS_EAGER $*" >> {log}\n',
    )
    result, _ = _make(tmp_path, "run", f"PY={python}", *args, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return log.read_text().splitlines()


SERVICES = {
    "DATABASE_URL": "postgres://shop@db.example:5432/production",
    "REDIS_URL": "redis://cache.example:6379/0",
    "CELERY_BROKER_URL": "redis://cache.example:6379/1",
}


def test_make_run_ignores_database_and_redis_urls_from_the_environment(tmp_path: Path) -> None:
    """`make run` seeds demo data and a demo superuser: never into a database named by an
    exported (or .env) DATABASE_URL, unless asked."""
    lines = _run_env_log(tmp_path, **SERVICES)
    steps = [line.split(" ", 4)[4] for line in lines]
    assert steps[0].startswith("manage.py migrate")
    assert steps[1].startswith("manage.py seed_demo")
    assert steps[2].startswith("scripts/run_dev.py")
    sqlite = f"DATABASE_URL=sqlite:///{ROOT}/var/db.sqlite3 REDIS_URL= "
    for line in lines:
        assert line.startswith(sqlite + "BROKER=memory:// EAGER=true "), line
        assert "example" not in line


def test_make_run_uses_the_environments_services_when_asked(tmp_path: Path) -> None:
    lines = _run_env_log(tmp_path, "RUN_WITH_ENV_SERVICES=1", **SERVICES)
    assert len(lines) == 3
    for line in lines:
        assert line.startswith(
            "DATABASE_URL=postgres://shop@db.example:5432/production "
            "REDIS_URL=redis://cache.example:6379/0 BROKER=redis://cache.example:6379/1 "
        ), line


def test_make_clean_removes_every_tool_cache(tmp_path: Path) -> None:
    """Dry run (`make -n`), so the shared checkout keeps its files."""
    result, _ = _make(tmp_path, "-n", "clean")
    assert result.returncode == 0, result.stdout + result.stderr
    removed = result.stdout.split()
    for cache in (".pytest_cache", ".mypy_cache", ".ruff_cache", ".import_linter_cache"):
        assert cache in removed, result.stdout
