"""The current request id, carried in a context variable so log lines can name it."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
