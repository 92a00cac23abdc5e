"""Accounts pages on PostgreSQL + Redis: bounded input, sign-in limits, accessible errors."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from apps.accounts import throttle
from apps.accounts.forms import EMAIL_MAX_LENGTH
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "quiet river 77"


def sign_up(client: Client, **overrides: str):
    data = {"first_name": "Ana", "last_name": "Ng", "email": "ana@example.com"}
    data["password"] = PASSWORD
    data.update(overrides)
    return client.post(reverse("accounts:sign_up"), data)


def long_email(length: int) -> str:
    """A syntactically valid address of exactly `length` characters."""
    domain = "@example.com"
    local_len = min(64, length - len(domain))
    labels_len = length - local_len - len(domain)
    labels = ""
    while labels_len > 0:  # extra DNS labels ("aaa.") of at most 63 characters
        size = min(63, labels_len - 1) if labels_len > 1 else 0
        if size == 0:
            break
        labels += "a" * size + "."
        labels_len -= size + 1
    address = "u" * (local_len + labels_len) + "@" + labels + domain[1:]
    assert len(address) == length
    return address


def test_user_model_limit_is_the_form_limit() -> None:
    assert EMAIL_MAX_LENGTH == get_user_model()._meta.get_field("username").max_length == 150


@pytest.mark.parametrize("length", [151, 200, 254])
def test_sign_up_with_an_email_longer_than_the_username_column_is_a_form_error(
    client: Client, length: int
) -> None:
    """A valid email longer than 150 characters is a form error, never a database error."""
    page = sign_up(client, email=long_email(length))
    assert page.status_code == 200
    assert "Email can be at most 150 characters long." in page.content.decode()
    assert not get_user_model().objects.exists()


def test_sign_up_at_the_limit_works(client: Client) -> None:
    page = sign_up(client, email=long_email(150))
    assert page.status_code == 302
    assert get_user_model().objects.get().username == long_email(150)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "A" * 51, "First name can be at most 50 characters long."),
        ("last_name", "N" * 5000, "Last name can be at most 50 characters long."),
        ("password", "p" * 129, "Password can be at most 128 characters long."),
        ("first_name", "An\x00a", "Null characters are not allowed."),
    ],
)
def test_other_oversized_or_bad_sign_up_input_is_a_form_error(
    client: Client, field: str, value: str, message: str
) -> None:
    page = sign_up(client, **{field: value})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not get_user_model().objects.exists()


def test_sign_in_with_oversized_input_is_a_form_error(client: Client) -> None:
    page = client.post(
        reverse("accounts:sign_in"), {"email": "x" * 5000 + "@example.com", "password": "p" * 500}
    )
    assert page.status_code == 200
    assert "Password can be at most 128 characters long." in page.content.decode()


@pytest.mark.parametrize(
    "target", ["/cart/\r\nSet-Cookie: x=1", "/a\x00b", "https://evil.example/"]
)
def test_unsafe_next_falls_back_to_home(client: Client, target: str) -> None:
    make_user("ana@example.com", password=PASSWORD)
    page = client.post(
        reverse("accounts:sign_in"),
        {"email": "ana@example.com", "password": PASSWORD, "next": target},
    )
    assert page.status_code == 302
    assert page["Location"] == reverse("catalog:home")


def test_field_errors_are_linked_to_their_inputs(client: Client) -> None:
    html = sign_up(client, email="not-an-email", first_name="").content.decode()
    for name in ("email", "first_name"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert tag is not None
        assert 'aria-invalid="true"' in tag.group(0)
        assert f'aria-describedby="id_{name}-error"' in tag.group(0)
        assert f'id="id_{name}-error"' in html
    password = re.search(r'<input[^>]*name="password"[^>]*>', html)
    assert password is not None
    assert "aria-invalid" not in password.group(0)


def wrong_password(client: Client, email: str, forwarded_for: str = ""):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        reverse("accounts:sign_in"), {"email": email, "password": "nope nope"}, headers=headers
    )


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:sign_in"), {"email": email, "password": password})


def test_sign_in_is_limited_per_email_and_ip() -> None:
    make_user("ana@example.com", password=PASSWORD)
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(throttle.MAX_FAILURES):
        assert "don&#x27;t match" in wrong_password(attacker, "ana@example.com").content.decode()
    page = sign_in(attacker, "Ana@example.com")
    assert "Too many attempts" in page.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_a_locked_email_does_not_lock_its_owner_out_elsewhere() -> None:
    """The lock is per client and email, so knowing an address is not enough to keep its
    owner from signing in."""
    make_user("ana@example.com", password=PASSWORD)
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(throttle.MAX_FAILURES + 3):
        wrong_password(attacker, "ana@example.com")
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(owner, "Ana@example.com").status_code == 302
    assert "_auth_user_id" in owner.session


def test_sign_in_is_limited_per_ip_even_across_many_emails() -> None:
    """A per-IP limit spans emails, so one client cannot try a few passwords on every account."""
    make_user("victim@example.com", password=PASSWORD)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(throttle.MAX_FAILURES_PER_IP):
        wrong_password(attacker, f"person{n}@example.com")
    page = attacker.post(
        reverse("accounts:sign_in"), {"email": "victim@example.com", "password": PASSWORD}
    )
    assert "Too many attempts" in page.content.decode()
    assert "_auth_user_id" not in attacker.session
    # A different client can still sign in to that account.
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    ok = elsewhere.post(
        reverse("accounts:sign_in"), {"email": "victim@example.com", "password": PASSWORD}
    )
    assert ok.status_code == 302


def test_forged_forwarded_for_does_not_escape_the_ip_limit() -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.10")
    for n in range(throttle.MAX_FAILURES_PER_IP):
        wrong_password(attacker, f"p{n}@example.com", forwarded_for=f"10.0.0.{n}")
    make_user("x@example.com", password=PASSWORD)
    page = attacker.post(
        reverse("accounts:sign_in"),
        {"email": "x@example.com", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert "Too many attempts" in page.content.decode()


def test_behind_our_proxy_each_shopper_has_their_own_ip_budget(settings) -> None:
    """With NUM_PROXIES=1 every request arrives from the proxy's address; the limit must
    follow the client address the proxy appended, or one attacker would lock out everyone."""
    settings.NUM_PROXIES = 1
    proxy = "10.0.0.1"
    attacker = Client(REMOTE_ADDR=proxy)
    for n in range(throttle.MAX_FAILURES_PER_IP):
        # The attacker's own forged entry comes first; the proxy appends the real address.
        wrong_password(attacker, f"q{n}@example.com", forwarded_for=f"1.2.3.{n}, 203.0.113.66")
    make_user("shopper@example.com", password=PASSWORD)
    shopper = Client(REMOTE_ADDR=proxy)
    ok = shopper.post(
        reverse("accounts:sign_in"),
        {"email": "shopper@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.44"},
    )
    assert ok.status_code == 302
    blocked = attacker.post(
        reverse("accounts:sign_in"),
        {"email": "shopper@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "9.9.9.9, 203.0.113.66"},
    )
    assert "Too many attempts" in blocked.content.decode()


def test_success_clears_the_pair_count_but_not_the_ip_count() -> None:
    make_user("ana@example.com", password=PASSWORD)
    client = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(throttle.MAX_FAILURES - 1):
        wrong_password(client, "ana@example.com")
    assert sign_in(client, "ana@example.com").status_code == 302
    again = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(throttle.MAX_FAILURES - 1):  # a fresh pair budget after the success
        wrong_password(again, "ana@example.com")
    assert sign_in(again, "ana@example.com").status_code == 302
    # The IP's failures stayed counted: 8 so far, so 12 more reach the IP-wide limit.
    for n in range(throttle.MAX_FAILURES_PER_IP - 2 * (throttle.MAX_FAILURES - 1)):
        wrong_password(again, f"other{n}@example.com")
    assert (
        "Too many attempts"
        in sign_in(Client(REMOTE_ADDR="192.0.2.1"), "ana@example.com").content.decode()
    )
