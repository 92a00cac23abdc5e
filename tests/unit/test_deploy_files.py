"""The Docker image, compose file and nginx config: secrets stay out, the app user can write
what it must, and only nginx faces clients."""

import fnmatch
import json
import re
import subprocess
from pathlib import Path
from typing import Any, cast

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


def test_gunicorn_is_published_only_through_the_nginx_proxy() -> None:
    services = cast(dict[str, Any], _compose()["services"])
    web, proxy = services["web"], services["proxy"]
    assert "ports" not in web, "gunicorn's sync workers must not face clients directly"
    assert web["expose"] == ["8000"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["8000:8080"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "media:/app/media:ro" in proxy["volumes"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    environment = cast(dict[str, Any], _compose()["x-app"])["environment"]
    # nginx serves /media/ and appends the client address that the IP rate limits read.
    assert environment["SERVE_MEDIA"] == "false"
    assert environment["NUM_PROXIES"] == "1"


def _nginx_directives() -> dict[str, list[str]]:
    text = re.sub(r"#[^\n]*", "", (ROOT / "deploy" / "nginx.conf").read_text())
    directives: dict[str, list[str]] = {}
    for statement in re.findall(r"([a-z_]+)\s+([^;{}]+);", text):
        directives.setdefault(statement[0], []).append(" ".join(statement[1].split()))
    return directives


def test_nginx_conf_buffers_and_times_out_slow_clients() -> None:
    d = _nginx_directives()
    assert d["listen"] == ["8080 default_server"]
    assert d["server"] == ["web:8000"]
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert d[name] == ["10s"], name
    assert d["keepalive_timeout"] == ["15s"]
    assert d["client_max_body_size"] == ["20m"]
    assert d["proxy_request_buffering"] == ["on"]
    assert d["proxy_buffering"] == ["on"]
    assert d["server_tokens"] == ["off"]
    assert "Host $http_host" in d["proxy_set_header"]
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in d["proxy_set_header"]
    assert "X-Forwarded-Proto $scheme" in d["proxy_set_header"]


def test_nginx_sends_the_media_headers_django_sends() -> None:
    from config.urls import MEDIA_HEADERS

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name, value in MEDIA_HEADERS.items():
        assert f'add_header {name} "{value}" always;' in conf, name
