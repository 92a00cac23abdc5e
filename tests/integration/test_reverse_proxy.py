"""Slow clients cannot pin the shop behind deploy/nginx.conf, and can without it.

The drill: gunicorn as deployed (config/gunicorn.py, 2 sync workers), and nginx running
deploy/nginx.conf rendered for loopback ports, with its own prefix, pid, logs and temp
directories (never the system's nginx). Four connections each send a request line and then
one header line a second, never finishing. Straight at gunicorn they hold both workers and
/healthz does not answer within 5 s; through nginx it answers at once, every time. All
traffic is to 127.0.0.1 and every wait is bounded. One gunicorn and one nginx serve the
whole module.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.urls import MEDIA_HEADERS
from tests.support import database_url, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
SLOW_CLIENTS = 4
# A healthy /healthz takes milliseconds; this is the most any request here gets to answer
# (generous, for a loaded test machine: a pinned gunicorn would not answer for 30 s).
ANSWER_WITHIN = 5.0

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
needs_nginx = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed: `make test-system-deps` installs it as root "
    "(or: apt-get install -y nginx); the reverse-proxy drill runs deploy/nginx.conf",
)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _request(
    port: int,
    method: str,
    path: str,
    timeout: float = ANSWER_WITHIN,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def _wait_until_up(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if _request(port, "GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{what} did not answer /healthz within 30 s"
        time.sleep(0.2)


@dataclass
class Gunicorn:
    port: int
    proc: subprocess.Popen[bytes]


def render_nginx_conf(listen_port: int, upstream_port: int, prefix: Path) -> str:
    """deploy/nginx.conf with loopback ports and every writable path under `prefix`."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "listen 8080 ": f"listen 127.0.0.1:{listen_port} ",
        "server web:8000;": f"server 127.0.0.1:{upstream_port};",
        "/var/cache/nginx/": f"{prefix}/temp/",
        "alias /app/media/;": f"alias {prefix}/media/;",
        "access_log /dev/stdout ": f"access_log {prefix}/access.log ",
    }
    for old, new in replacements.items():
        assert old in conf, f"deploy/nginx.conf no longer has {old!r}: update this test"
        conf = conf.replace(old, new)
    return conf


@dataclass
class Stack:
    nginx_port: int
    prefix: Path

    @property
    def media(self) -> Path:
        return self.prefix / "media"


@pytest.fixture(scope="module")
def gunicorn(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn as config/gunicorn.py runs it, 2 sync workers, on the test database."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "proxy-test-" + "k" * 40,
        "SECURE_HTTPS": "false",
        "WHITENOISE_USE_FINDERS": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "NUM_PROXIES": "1",
        "LOG_LEVEL": "WARNING",
    }
    with (tmp_path / "gunicorn.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(port, proc, "gunicorn")
            yield Gunicorn(port, proc)
        finally:
            stop_process(proc, signal.SIGINT)


@pytest.fixture(scope="module")
def stack(gunicorn: Gunicorn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nginx with deploy/nginx.conf in front of that gunicorn."""
    assert NGINX is not None
    prefix = tmp_path_factory.mktemp("nginx")
    (prefix / "temp").mkdir()
    (prefix / "media").mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(port, gunicorn.port, prefix))
    # As root, nginx's workers would run as the distribution's unprivileged user, which
    # cannot enter pytest's private tmp directory.
    user = "user root;" if os.geteuid() == 0 else ""
    proc = subprocess.Popen(
        [NGINX, "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "error.log"),
         "-g", f"daemon off; pid {prefix}/nginx.pid; {user}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_until_up(port, proc, "nginx (see its error.log under the test's tmp_path)")
        yield Stack(port, prefix)
    finally:
        stop_process(proc)


class SlowClients:
    """Connections that send a request line, then one header line per trickle(), forever."""

    def __init__(self, port: int, count: int = SLOW_CLIENTS) -> None:
        self.socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.socks.append(sock)

    def trickle(self) -> None:
        for number, sock in enumerate(self.socks):
            sock.sendall(f"X-Slow-{number}: {time.monotonic()}\r\n".encode())

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


def _healthz_seconds(port: int) -> float | None:
    """How long /healthz took to answer 200, or None if it did not within ANSWER_WITHIN."""
    start = time.monotonic()
    try:
        answer = _request(port, "GET", "/healthz")
    except TimeoutError:
        return None
    assert answer.status == 200, answer.body
    return time.monotonic() - start


def _drill(port: int, rounds: int = 3) -> list[float | None]:
    slow = SlowClients(port)
    try:
        time.sleep(0.3)  # let the server take the slow connections first
        timings = []
        for round_ in range(rounds):
            if round_:
                time.sleep(1.0)  # the slow clients keep it up: a header line a second
            slow.trickle()
            timings.append(_healthz_seconds(port))
        return timings
    finally:
        slow.close()


def test_slow_clients_pin_gunicorn_sync_workers_served_directly(gunicorn: Gunicorn) -> None:
    """The problem is real: this is why gunicorn is never published without the proxy."""
    timings = _drill(gunicorn.port, rounds=1)
    assert timings == [None], f"/healthz answered despite {SLOW_CLIENTS} slow clients"
    # Once they let go, the workers serve again.
    _wait_until_up(gunicorn.port, gunicorn.proc, "gunicorn after the drill")


@needs_nginx
def test_slow_clients_cannot_pin_the_shop_behind_nginx(stack: Stack) -> None:
    timings = _drill(stack.nginx_port, rounds=3)
    assert None not in timings, f"/healthz through nginx timed out: {timings}"


@needs_nginx
def test_nginx_limits_bodies_and_drops_its_version(stack: Stack) -> None:
    # Refused on the Content-Length alone, before a byte of the body reaches gunicorn.
    conn = http.client.HTTPConnection("127.0.0.1", stack.nginx_port, timeout=ANSWER_WITHIN)
    try:
        conn.putrequest("POST", "/cart/add/")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(21 * 1024 * 1024))
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
    finally:
        conn.close()

    answer = _request(stack.nginx_port, "GET", "/healthz")
    assert answer.headers.get_all("Server") == ["nginx"]  # no version, no "gunicorn"
    assert "X-Request-ID" in answer.headers
    # TRACE never reaches the app, and gets no echo of the request back.
    trace = _request(stack.nginx_port, "TRACE", "/", headers={"Cookie": "sessionid=secret"})
    assert trace.status == 405
    assert b"secret" not in trace.body


@needs_nginx
def test_nginx_serves_media_with_the_media_headers(stack: Stack) -> None:
    (stack.media / "products").mkdir()
    (stack.media / "products" / "pic.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    answer = _request(stack.nginx_port, "GET", "/media/products/pic.svg")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "image/svg+xml"
    for name, value in MEDIA_HEADERS.items():
        assert answer.headers[name] == value
    assert _request(stack.nginx_port, "POST", "/media/products/pic.svg").status == 403
    assert _request(stack.nginx_port, "GET", "/media/products/none.svg").status == 404


@needs_nginx
def test_csrf_protected_form_posts_through_nginx(stack: Stack) -> None:
    """Host reaches Django with its port, so the browser's Origin matches it."""
    page = _request(stack.nginx_port, "GET", "/accounts/sign-in/")
    assert page.status == 200
    cookie = next(
        c.split(";")[0] for c in page.headers.get_all("Set-Cookie") or [] if "csrftoken" in c
    )
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token
    origin = f"http://127.0.0.1:{stack.nginx_port}"
    answer = _request(
        stack.nginx_port,
        "POST",
        "/accounts/sign-in/",
        body=b"email=nobody%40example.com&password=wrong&csrfmiddlewaretoken=" + token[1],
        headers={
            "Host": f"127.0.0.1:{stack.nginx_port}",
            "Origin": origin,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
        },
    )
    # The form again with its error (wrong password), not CSRF's 403.
    assert answer.status == 200, answer.body[:500]
    assert b'action="/accounts/sign-in/"' in answer.body


@needs_nginx
def test_nginx_access_log_is_json_without_query_strings(stack: Stack) -> None:
    answer = _request(stack.nginx_port, "GET", "/healthz?email=someone%40example.com")
    assert answer.status == 200
    request_id = answer.headers["X-Request-ID"]  # nginx's id, reused by the app
    deadline = time.monotonic() + 5
    while True:
        lines = (stack.prefix / "access.log").read_text().splitlines()
        mine = [json.loads(line) for line in lines if request_id in line]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(mine) == 1, lines
    assert mine[0]["logger"] == "nginx.access"
    assert mine[0]["msg"].startswith('"GET /healthz HTTP/1.1" 200 ')
    assert "someone" not in "\n".join(lines)
    assert "127.0.0.1" not in "\n".join(lines)
