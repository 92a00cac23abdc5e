"""Deployment checks (`manage.py check --deploy`) for settings Django does not cover."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def check_secret_key_is_set(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return [Error("SECRET_KEY is the development default; set it.", id="core.E001")]
    return []


@register(Tags.security, deploy=True)
def check_stripe_keys(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    missing = [
        name
        for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
        if not getattr(settings, name, "")
    ]
    return [Error(f"{name} is not set.", id="core.E002") for name in missing]
