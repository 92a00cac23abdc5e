"""Base models shared by every app."""

from django.db import models


class TimeStampedModel(models.Model):
    """Bigint primary key plus creation/update timestamps, for every stored row."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
