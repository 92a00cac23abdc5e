"""One active guest cart per session (partial unique index on session_hash).

Rows stored without the index may hold two active guest carts of one session (two
concurrent first requests each created one). Such duplicates keep the most recently updated cart active; the others are
marked abandoned (the usual expiry then deletes them), so the index can be built."""

from django.db import migrations, models
from django.db.models import Count, Q


def abandon_duplicate_guest_carts(apps, schema_editor):  # type: ignore[no-untyped-def]
    cart_model = apps.get_model("cart", "Cart")
    active_guest = cart_model.objects.filter(status="active", user__isnull=True)
    duplicated = (
        active_guest.values("session_hash")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("session_hash", flat=True)
    )
    for digest in list(duplicated):
        carts = list(
            active_guest.filter(session_hash=digest)
            .order_by("-updated_at", "-id")
            .values_list("pk", flat=True)
        )
        cart_model.objects.filter(pk__in=carts[1:]).update(status="abandoned")


class Migration(migrations.Migration):
    dependencies = [
        ("cart", "0002_cart_session_hash"),
    ]

    operations = [
        migrations.RunPython(
            abandon_duplicate_guest_carts, migrations.RunPython.noop, elidable=True
        ),
        migrations.AddConstraint(
            model_name="cart",
            constraint=models.UniqueConstraint(
                condition=Q(status="active", user__isnull=True),
                fields=("session_hash",),
                name="cart_one_active_per_guest_session",
            ),
        ),
    ]
