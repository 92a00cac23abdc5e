"""The address book: a customer's saved addresses, reads and writes.

Every function takes the owner, so one customer can never read or change another's
address (a foreign id is `Address.DoesNotExist`, a 404 in the views). At most one default
shipping and one default billing address per user is a database fact (partial unique
constraints); switching a default clears the old one first, in one transaction, with the
user's row locked so two writes in parallel queue instead of colliding (one row: no lock
order to get wrong, and it also covers a user who has no address yet).
"""

from typing import Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from apps.checkout.addresses import AddressData
from apps.checkout.models import Address

DefaultKind = Literal["shipping", "billing"]
DEFAULT_KINDS: tuple[DefaultKind, ...] = ("shipping", "billing")

_FLAG = {"shipping": "is_default_shipping", "billing": "is_default_billing"}


def addresses_for(user: User) -> QuerySet[Address]:
    """The user's addresses, defaults first."""
    return Address.objects.filter(user=user).order_by(
        "-is_default_shipping", "-is_default_billing", "-updated_at", "-id"
    )


def get_for_user(user: User, address_id: int) -> Address:
    """One of the user's addresses; raises Address.DoesNotExist for anyone else's."""
    return Address.objects.get(user=user, pk=address_id)


def default_address(user: User, kind: DefaultKind) -> Address | None:
    """The user's default shipping or billing address, for prefilling checkout."""
    return Address.objects.filter(user=user, **{_FLAG[kind]: True}).first()


def _lock_address_book(user: User) -> None:
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))


@transaction.atomic
def save_address(
    user: User,
    data: AddressData,
    *,
    address_id: int | None = None,
    default_shipping: bool = False,
    default_billing: bool = False,
) -> Address:
    """Create (address_id None) or update one of the user's addresses from checked data;
    the flags say whether it is the default shipping/billing address afterwards."""
    _lock_address_book(user)
    if address_id is None:
        address = Address(user=user)
    else:
        address = Address.objects.get(user=user, pk=address_id)
    for name, value in data.as_dict().items():
        setattr(address, name, value)
    # Saved without turning a default on; _make_default does that after clearing the old.
    address.is_default_shipping = address.is_default_shipping and default_shipping
    address.is_default_billing = address.is_default_billing and default_billing
    address.save()
    wanted: tuple[tuple[DefaultKind, bool], ...] = (
        ("shipping", default_shipping),
        ("billing", default_billing),
    )
    for kind, on in wanted:
        if on:
            _make_default(user, address, kind)
    return address


def _make_default(user: User, address: Address, kind: DefaultKind) -> None:
    flag = _FLAG[kind]
    # The old default goes first, so the partial unique constraint never sees two.
    Address.objects.filter(user=user, **{flag: True}).exclude(pk=address.pk).update(**{flag: False})
    if not getattr(address, flag):
        setattr(address, flag, True)
        Address.objects.filter(pk=address.pk).update(**{flag: True})


@transaction.atomic
def set_default(user: User, address_id: int, kind: DefaultKind) -> Address:
    """Make one of the user's addresses the default shipping or billing address."""
    _lock_address_book(user)
    address = Address.objects.get(user=user, pk=address_id)
    _make_default(user, address, kind)
    return address


@transaction.atomic
def delete_address(user: User, address_id: int) -> None:
    """Delete one of the user's addresses (a default simply leaves no default)."""
    deleted, _ = Address.objects.filter(user=user, pk=address_id).delete()
    if not deleted:
        raise Address.DoesNotExist
