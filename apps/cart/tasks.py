"""Periodic cart housekeeping (scheduled by CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from apps.cart import services


@shared_task(name="cart.expire_stale_carts")
def expire_stale_carts() -> dict[str, int]:
    result = services.expire_stale_carts()
    return {"abandoned": result.abandoned, "deleted": result.deleted}
