"""python manage.py seed_demo: demo catalog, stock, coupons and a staff account (idempotent).

The staff account has a published password, so it is only created on a DEBUG site, or
when `--with-demo-admin` asks for it explicitly: seeding a production-like site
(DEBUG=false) must not open its admin to anyone who read the README.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from apps.core.demo import registered_seeders

DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "shop-demo-admin"  # noqa: S105 - demo only, stated in the README


class Command(BaseCommand):
    help = (
        "Load the demo data of every app, and on a DEBUG site a demo staff account. "
        "Safe to run repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--with-demo-admin",
            action="store_true",
            help=(
                f"Also create the demo staff account ({DEMO_STAFF_USERNAME} / "
                f"{DEMO_STAFF_PASSWORD}) when DEBUG is false."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for seeder in registered_seeders():
            with transaction.atomic():
                summary = seeder.seed()
            self.stdout.write(f"{seeder.name}: {summary}")
        if not (settings.DEBUG or options["with_demo_admin"]):
            self.stdout.write(
                self.style.WARNING(
                    "Demo data ready. Skipped the demo staff account (its password is public) "
                    "because DEBUG is false; pass --with-demo-admin to create it anyway, or "
                    "run `manage.py createsuperuser`."
                )
            )
            return
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
