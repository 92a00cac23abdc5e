"""python manage.py seed_demo: demo catalog, stock, coupons and a staff account (idempotent)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.demo import registered_seeders

DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "shop-demo-admin"  # noqa: S105 - demo only, stated in the README


class Command(BaseCommand):
    help = "Load the demo data of every app and a demo staff account. Safe to run repeatedly."

    def handle(self, *args: Any, **options: Any) -> None:
        for seeder in registered_seeders():
            with transaction.atomic():
                summary = seeder.seed()
            self.stdout.write(f"{seeder.name}: {summary}")
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_STAFF_USERNAME).exists():
            user_model.objects.create_superuser(
                username=DEMO_STAFF_USERNAME,
                email="admin@example.com",
                password=DEMO_STAFF_PASSWORD,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Staff sign-in at /admin/: "
                f"{DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}"
            )
        )
