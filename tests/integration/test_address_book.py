"""The address book on PostgreSQL: owner-only access, defaults switched atomically, the
suggestion flow through the real pages, CSRF and POST-only writes."""

import threading
from collections.abc import Callable
from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from apps.checkout import address_book
from apps.checkout.addresses import AddressData
from apps.checkout.models import Address
from tests.factories import make_user

pytestmark = pytest.mark.django_db

US = AddressData(
    first_name="Ann",
    last_name="Lee",
    street1="1 Market St",
    city="San Francisco",
    state="CA",
    zip_code="94107",
    country="US",
)


def form_data(**overrides: str) -> dict[str, str]:
    data = dict(US.as_dict().items())
    data.update(overrides)
    return data


@pytest.fixture
def user_client(client: Client):
    user = make_user()
    client.force_login(user)
    return user, client


def test_sign_in_is_required(client: Client) -> None:
    for url in (reverse("addresses:list"), reverse("addresses:add")):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:sign_in") in response["Location"]


def test_add_a_valid_address_then_it_is_listed(user_client) -> None:
    user, client = user_client
    response = client.post(reverse("addresses:add"), form_data())
    assert response.status_code == 302
    address = Address.objects.get(user=user)
    assert (address.street1, address.state, address.zip_code) == ("1 Market St", "CA", "94107")
    page = client.get(reverse("addresses:list"))
    assert b"1 Market St" in page.content
    assert reverse("addresses:list").encode() in page.content  # header link


def test_a_suggestion_is_shown_and_accepting_it_stores_the_normalised_address(
    user_client,
) -> None:
    user, client = user_client
    data = form_data(state="California", zip_code="941071234", phone="(415) 555-0132")
    page = client.post(reverse("addresses:add"), data)
    assert page.status_code == 200
    assert not Address.objects.filter(user=user).exists()
    html = page.content.decode()
    assert "Did you mean this address?" in html
    assert "94107-1234" in html
    assert "Used the code CA for California." in html
    assert 'role="alert"' in html
    # Their own version is not valid as typed (a 9-digit ZIP), so there is no "keep mine".
    assert 'data-testid="keep-mine"' not in html
    accept = page.context["form"].suggestion_accept_value
    assert (
        client.post(reverse("addresses:add"), {**data, "address_choice": accept}).status_code == 302
    )
    address = Address.objects.get(user=user)
    assert (address.state, address.zip_code, address.phone) == ("CA", "94107-1234", "+14155550132")


def test_accepting_a_stale_suggestion_asks_again(user_client) -> None:
    user, client = user_client
    data = form_data(state="california")
    accept = client.post(reverse("addresses:add"), data).context["form"].suggestion_accept_value
    # The shopper edited the city after seeing the suggestion: it is a different one now.
    response = client.post(
        reverse("addresses:add"), {**data, "city": "Oakland", "address_choice": accept}
    )
    assert response.status_code == 200
    assert "Did you mean this address?" in response.content.decode()
    assert not Address.objects.filter(user=user).exists()


def test_keep_mine_stores_the_address_as_typed_when_it_is_valid(user_client) -> None:
    user, client = user_client
    data = form_data(
        street1="10 Downing St", city="London", state="", zip_code="SW1A1AA", country="GB"
    )
    page = client.post(reverse("addresses:add"), data)
    assert 'data-testid="keep-mine"' in page.content.decode()
    assert (
        client.post(reverse("addresses:add"), {**data, "address_choice": "keep"}).status_code == 302
    )
    assert Address.objects.get(user=user).zip_code == "SW1A1AA"


def test_errors_sit_next_to_fields_and_in_the_summary(user_client) -> None:
    _, client = user_client
    response = client.post(reverse("addresses:add"), form_data(zip_code="9410", state=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_zip_code-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_zip_code-error"' in html
    assert "Enter a ZIP code like 94107 or 94107-1234." in html
    assert 'href="#id_state"' in html
    assert "Choose a state." in html


def test_another_users_address_is_a_404(user_client) -> None:
    _, client = user_client
    other = address_book.save_address(make_user(), US)
    for name in ("addresses:edit", "addresses:delete"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404
    assert client.post(reverse("addresses:delete", args=[other.pk])).status_code == 404
    url = reverse("addresses:set_default", args=[other.pk, "shipping"])
    assert client.post(url).status_code == 404
    response = client.post(reverse("addresses:edit", args=[other.pk]), form_data(city="Oakland"))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.city == "San Francisco"
    assert Address.objects.filter(pk=other.pk).exists()


def test_edit_and_delete(user_client) -> None:
    user, client = user_client
    address = address_book.save_address(user, US)
    url = reverse("addresses:edit", args=[address.pk])
    assert client.get(url).context["form"].initial["city"] == "San Francisco"
    assert client.post(url, form_data(city="Oakland", zip_code="94607")).status_code == 302
    address.refresh_from_db()
    assert address.city == "Oakland"
    delete_url = reverse("addresses:delete", args=[address.pk])
    assert client.get(delete_url).status_code == 200  # a confirmation page; GET deletes nothing
    assert Address.objects.filter(pk=address.pk).exists()
    assert client.post(delete_url).status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()


def test_writes_need_csrf() -> None:
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    address = address_book.save_address(user, US)
    assert client.post(reverse("addresses:delete", args=[address.pk])).status_code == 403
    url = reverse("addresses:set_default", args=[address.pk, "billing"])
    assert client.post(url).status_code == 403
    assert client.post(reverse("addresses:add"), form_data()).status_code == 403
    assert Address.objects.filter(user=user).count() == 1


def test_set_default_is_post_only_and_moves_the_default(user_client) -> None:
    user, client = user_client
    first = address_book.save_address(user, US, default_shipping=True, default_billing=True)
    second = address_book.save_address(user, US.__class__(**{**US.as_dict(), "city": "Oakland"}))
    url = reverse("addresses:set_default", args=[second.pk, "shipping"])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default_shipping, second.is_default_shipping) == (False, True)
    assert (first.is_default_billing, second.is_default_billing) == (True, False)
    assert address_book.default_address(user, "shipping") == second
    assert client.post(reverse("addresses:set_default", args=[second.pk, "x"])).status_code == 404


def test_the_database_refuses_two_defaults() -> None:
    user = make_user()
    address_book.save_address(user, US, default_shipping=True)
    second = address_book.save_address(user, US)
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.filter(pk=second.pk).update(is_default_shipping=True)


def test_saving_with_the_default_box_takes_the_default_over(user_client) -> None:
    user, client = user_client
    first = address_book.save_address(user, US, default_billing=True)
    response = client.post(
        reverse("addresses:add"),
        {**form_data(city="Oakland", zip_code="94607"), "default_billing": "on"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert not first.is_default_billing
    assert Address.objects.get(user=user, is_default_billing=True).city == "Oakland"


def _in_parallel(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run the calls at the same moment, each in its own thread and connection."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_parallel_default_switches_leave_exactly_one_default() -> None:
    user = make_user()
    addresses = [address_book.save_address(user, US) for _ in range(4)]
    for _ in range(5):  # the switches reorder the rows: a lock per row could deadlock
        calls: list[Callable[[], object]] = []
        for address in addresses:
            for kind in address_book.DEFAULT_KINDS:
                calls.append(partial(address_book.set_default, user, address.pk, kind))
        assert _in_parallel(calls) == []
        assert Address.objects.filter(user=user, is_default_shipping=True).count() == 1
        assert Address.objects.filter(user=user, is_default_billing=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_first_addresses_with_the_default_box_both_save() -> None:
    user = make_user()
    calls: list[Callable[[], object]] = [
        partial(address_book.save_address, user, US, default_shipping=True) for _ in range(3)
    ]
    assert _in_parallel(calls) == []
    assert Address.objects.filter(user=user).count() == 3
    assert Address.objects.filter(user=user, is_default_shipping=True).count() == 1
