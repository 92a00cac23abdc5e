"""gunicorn (the production web server) logs JSON through the app's redaction too.

Its default handlers print the raw request line, query string included, in the error log
and the access log. config/gunicorn.py routes both through apps.core.logging.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local URL
            return response.status, response.headers["X-Request-ID"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["X-Request-ID"]


def test_gunicorn_logs_are_redacted_json_with_request_ids() -> None:
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "gunicorn-test-" + "k" * 40,
        "SECURE_HTTPS": "false",
        "WHITENOISE_USE_FINDERS": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The test database pytest-django created, so the shop's pages can render.
        "DATABASE_URL": database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        status, request_id = _get(
            f"http://127.0.0.1:{port}/no-such-page/?email=someone@example.com&phone=+15551234567"
        )
        assert status == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert "someone@example.com" not in out
    assert "15551234567" not in out
    assert "email=" not in out
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    gunicorn_lines = [line for line in out.splitlines() if "gunicorn" in line]
    assert gunicorn_lines
    assert all(line.startswith("{") for line in gunicorn_lines), gunicorn_lines
    access = [
        r for r in records if r["logger"] == "gunicorn.access" and "/no-such-page/" in r["msg"]
    ]
    assert len(access) == 1
    assert f"request_id={request_id}" in access[0]["msg"]
    assert '"GET /no-such-page/ HTTP/1.1" 404' in access[0]["msg"]
