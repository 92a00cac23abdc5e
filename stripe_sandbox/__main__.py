"""``python -m stripe_sandbox``: start the sandbox. Every flag has an environment fallback."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from .control import check_public_url, check_seconds, check_webhook_url
from .engine import Config
from .server import Sandbox, SandboxServer


def _arg(check: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse ``type`` from a ValueError-raising check: a clear usage error at startup
    instead of a worker that fails every delivery."""

    def parse(value: str) -> object:
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _schedule(value: str) -> list[float]:
    return [check_seconds("retry schedule", x) for x in value.split(",") if x.strip()]


def _timeout(value: str) -> float:
    return check_seconds("delivery timeout", value, positive=True, limit=600.0)


def _url(value: str) -> str | None:
    return check_webhook_url(value) if value else None


def _public_url(value: str) -> str | None:
    return check_public_url(value) if value else None


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m stripe_sandbox", description=__doc__)
    p.add_argument("--host", default=env("STRIPE_SANDBOX_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(env("STRIPE_SANDBOX_PORT", "12111")))
    p.add_argument(
        "--secret-key",
        default=env("STRIPE_SANDBOX_SECRET_KEY") or env("STRIPE_SECRET_KEY"),
        help="the sk_test_... key clients must send (env STRIPE_SANDBOX_SECRET_KEY)",
    )
    p.add_argument(
        "--webhook-url",
        type=_arg(_url),
        default=env("STRIPE_SANDBOX_WEBHOOK_URL"),
        help="where events are POSTed; none = events are only stored",
    )
    p.add_argument(
        "--webhook-secret",
        default=env("STRIPE_SANDBOX_WEBHOOK_SECRET") or env("STRIPE_WEBHOOK_SECRET"),
        help="whsec_... used to sign deliveries",
    )
    p.add_argument("--db", default=env("STRIPE_SANDBOX_DB"), help="SQLite file (default: memory)")
    p.add_argument(
        "--public-url",
        type=_arg(_public_url),
        default=env("STRIPE_SANDBOX_PUBLIC_URL"),
        help="base URL browsers use to reach the sandbox (default http://HOST:PORT)",
    )
    p.add_argument(
        "--retry-schedule",
        type=_arg(_schedule),
        default=env("STRIPE_SANDBOX_RETRY_SCHEDULE", "1,2,4,8,16"),
        help="seconds between delivery retries, comma separated (default 1,2,4,8,16)",
    )
    p.add_argument(
        "--delivery-timeout",
        type=_arg(_timeout),
        default=env("STRIPE_SANDBOX_DELIVERY_TIMEOUT", "10"),
        help="seconds to wait for the endpoint's answer (> 0, default 10)",
    )
    p.add_argument("--log-level", default=env("STRIPE_SANDBOX_LOG_LEVEL", "INFO"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.secret_key or not args.secret_key.startswith("sk_test_"):
        print("stripe_sandbox: --secret-key sk_test_... is required", file=sys.stderr)
        return 2
    if not args.webhook_secret:
        print("stripe_sandbox: --webhook-secret whsec_... is required", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s stripe_sandbox %(levelname)s %(message)s",
    )
    server_config = Config(
        secret_key=args.secret_key,
        webhook_url=args.webhook_url or None,
        webhook_secret=args.webhook_secret,
        public_url="",
        retry_schedule=args.retry_schedule,
        delivery_timeout=args.delivery_timeout,
    )
    sandbox = Sandbox(server_config, args.db)
    server = SandboxServer((args.host, args.port), sandbox)
    port = server.server_address[1]
    server_config.public_url = (args.public_url or f"http://{args.host}:{port}").rstrip("/")
    sandbox.control.initial["public_url"] = server_config.public_url
    sandbox.start_background()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The first line on stdout tells a parent process (tests, make run) where we listen.
    print(f"stripe_sandbox listening on {server_config.public_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        sandbox.stop()
        server.server_close()
        sandbox.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
