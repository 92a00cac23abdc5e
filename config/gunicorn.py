"""gunicorn settings (`gunicorn -c config/gunicorn.py config.wsgi:application`).

gunicorn logs through its own plain-text handlers, which would print what the shop's
logging never does: its error log names the raw request line, query string included (an
email, a phone number). Here both its loggers go through the same JSON formatter and
redaction filters as the app (apps.core.logging), and the access line names the method,
path (no query string), status, size, duration and request id, never the client address.

Sync workers serve one connection each and can be held by a client that sends or reads
slowly, so gunicorn is never published directly: nginx (deploy/nginx.conf) buffers every
request and response in front of it (docs/deploy.md, "Reverse proxy").
"""

import os

from apps.core.logging import LOG_CONFIG_BASE, json_log_handler

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
access_log_format = '"%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

logconfig_dict = {
    **LOG_CONFIG_BASE,
    "handlers": {
        "console": json_log_handler("ext://sys.stdout"),
        "error_console": json_log_handler("ext://sys.stderr"),
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
