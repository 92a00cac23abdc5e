"""The Docker image and compose file: secrets stay out, the app user can write what it must."""

import fnmatch
import json
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text().replace("\\\n", " ")


def _compose() -> dict[str, object]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_env_file_is_ignored_by_git() -> None:
    for name in (".env", ".env.production"):
        result = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False)
        assert result.returncode == 0, f"{name} is not git-ignored"


def test_env_file_never_enters_the_image() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in (".env", ".env.production"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), f"{name} would be in the image"


def test_runtime_writable_dirs_belong_to_the_app_user() -> None:
    dockerfile = _dockerfile()
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user == ["shop"]
    chowns = re.findall(r"chown (?:-R )?shop:shop ([^&\n]+)", dockerfile)
    owned = {p for group in chowns for p in group.split()}
    assert {"/app/media", "/app/var"} <= owned
    # The chown comes after collectstatic, which creates var/ as root at build time.
    assert dockerfile.index("collectstatic") < dockerfile.index("chown shop:shop /app/media")
    environment = _compose()["x-app"]["environment"]  # type: ignore[index]
    assert environment["MEDIA_ROOT"] == "/app/media"
    volumes = _compose()["x-app"]["volumes"]  # type: ignore[index]
    assert "media:/app/media" in volumes


def test_celery_beat_writes_its_schedule_to_a_writable_dir() -> None:
    command = _compose()["services"]["beat"]["command"]  # type: ignore[index]
    flag = "--schedule" if "--schedule" in command else "-s"
    assert flag in command, "beat would write celerybeat-schedule into the read-only /app"
    schedule = Path(command[command.index(flag) + 1])
    assert schedule.parent == Path("/app/var")


def test_gunicorn_runs_with_the_logging_config() -> None:
    cmd = json.loads(re.findall(r"^CMD (\[.*\])\s*$", _dockerfile(), re.M)[-1])
    assert cmd[:3] == ["gunicorn", "-c", "config/gunicorn.py"]
