"""An explicit, typed registry of what other apps do when a shopper signs in.

accounts depends only on core; apps above it (cart) register handlers in their
AppConfig.ready(). The sign-in view calls `on_sign_in.fire(...)` after login() with
the session data as it was *before* login, so handlers can find guest state.
"""

import logging
from collections.abc import Mapping
from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

logger = logging.getLogger(__name__)


class SignInHandler(Protocol):
    def __call__(
        self, request: HttpRequest, user: AbstractBaseUser, previous_session: Mapping[str, object]
    ) -> None: ...


class SignInHooks:
    def __init__(self) -> None:
        self._handlers: list[SignInHandler] = []

    def register(self, handler: SignInHandler) -> SignInHandler:
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def unregister(self, handler: SignInHandler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    @property
    def handlers(self) -> tuple[SignInHandler, ...]:
        return tuple(self._handlers)

    def fire(
        self, request: HttpRequest, user: AbstractBaseUser, previous_session: Mapping[str, object]
    ) -> None:
        """Run every handler. A failing handler is logged and never blocks sign-in."""
        for handler in self._handlers:
            try:
                handler(request, user, previous_session)
            except Exception:
                logger.exception(
                    "sign-in handler failed",
                    extra={"handler": getattr(handler, "__qualname__", repr(handler))},
                )


on_sign_in = SignInHooks()

__all__ = ["SignInHandler", "SignInHooks", "on_sign_in"]
