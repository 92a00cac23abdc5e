"""Safety net for coupon reservations whose payment never finished."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.promotions import services


@shared_task(name="promotions.release_stale_reservations")
def release_stale_reservations() -> int:
    minutes = int(getattr(settings, "COUPON_RESERVATION_TTL_MINUTES", 60))
    return services.release_stale_reservations(timezone.now() - timedelta(minutes=minutes))
