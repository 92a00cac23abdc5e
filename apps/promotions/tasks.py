"""Safety net for coupon reservations whose payment never finished."""

from celery import shared_task
from django.utils import timezone

from apps.promotions import services


@shared_task(name="promotions.release_stale_reservations")
def release_stale_reservations() -> int:
    return services.release_stale_reservations(timezone.now() - services.reservation_ttl())
