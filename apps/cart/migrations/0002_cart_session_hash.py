"""Store a SHA-256 of the guest's session key instead of the key itself."""

import hashlib

from django.db import migrations, models
from django.db.models import Q


def hash_session_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    cart_model = apps.get_model("cart", "Cart")
    for cart in cart_model.objects.exclude(session_key="").only("pk", "session_key").iterator():
        digest = hashlib.sha256(cart.session_key.encode()).hexdigest()
        cart_model.objects.filter(pk=cart.pk).update(session_hash=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("cart", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cart",
            name="session_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(hash_session_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(model_name="cart", name="cart_has_owner"),
        migrations.RemoveField(model_name="cart", name="session_key"),
        migrations.AddConstraint(
            model_name="cart",
            constraint=models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(session_hash=""), name="cart_has_owner"
            ),
        ),
    ]
