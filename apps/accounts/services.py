"""Account writes: sign-up (insert under the unique username, never check-then-insert)."""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

logger = logging.getLogger(__name__)


class EmailTaken(Exception):
    pass


def create_customer(
    *, email: str, password: str, first_name: str, last_name: str
) -> AbstractBaseUser:
    user_model = get_user_model()
    try:
        with transaction.atomic():
            user: AbstractBaseUser = user_model.objects.create_user(
                username=email.lower(),
                email=email.lower(),
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
    except IntegrityError as exc:
        raise EmailTaken from exc
    logger.info("customer signed up", extra={"user_id": user.pk})
    return user
