"""Password reset end to end through the configured (locmem) mail backend: ask, read the
mail, follow the link, set a new password, sign in with it. Answers never reveal whether
an email has an account; the form is rate limited per IP and per address."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db

OLD = "correct horse 42"
NEW = "brand new teapot 19"


def link_in(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+/accounts/password-reset/\S+/\S+/", str(message.body))
    assert match, message.body
    return match.group(0)


def test_sign_in_page_links_to_the_reset(client: Client) -> None:
    page = client.get(reverse("accounts:sign_in"))
    assert reverse("accounts:password_reset").encode() in page.content
    assert b"Forgot your password?" in page.content


@override_settings(SITE_URL="https://shop.example")
def test_reset_by_email_then_sign_in_with_the_new_password(client: Client) -> None:
    user = make_user("ana@example.com", password=OLD, first_name="Ana")
    response = client.post(reverse("accounts:password_reset"), {"email": "ANA@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert "Reset your" in message.subject
    # The link comes from SITE_URL, never from the request's Host header.
    link = link_in(message)
    assert link.startswith("https://shop.example/accounts/password-reset/")

    path = link.removeprefix("https://shop.example")
    page = client.get(path, follow=True)
    assert page.status_code == 200
    assert b"Choose a new password" in page.content
    set_password_url = page.redirect_chain[-1][0]
    bad = client.post(set_password_url, {"new_password1": NEW, "new_password2": "other"})
    assert bad.status_code == 200
    assert 'role="alert"' in bad.content.decode()
    done = client.post(set_password_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")

    user.refresh_from_db()
    assert user.check_password(NEW)
    fresh = Client()
    old_try = fresh.post(reverse("accounts:sign_in"), {"email": "ana@example.com", "password": OLD})
    assert old_try.status_code == 200  # the form again: the old password is gone
    signed_in = fresh.post(
        reverse("accounts:sign_in"), {"email": "ana@example.com", "password": NEW}
    )
    assert signed_in.status_code == 302
    assert fresh.session.get("_auth_user_id") == str(user.pk)

    # The link works once.
    again = Client().get(path, follow=True)
    assert b"This link has expired" in again.content


def test_unknown_email_gets_the_same_answer_and_no_mail(client: Client) -> None:
    make_user("ana@example.com")
    known = client.post(reverse("accounts:password_reset"), {"email": "ana@example.com"})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


def test_a_tampered_token_shows_the_expired_page(client: Client) -> None:
    user = make_user("ana@example.com")
    client.post(reverse("accounts:password_reset"), {"email": "ana@example.com"})
    path = "/" + link_in(mail.outbox[0]).split("/", 3)[3]
    tampered = path[:-3] + ("x" if path[-3] != "x" else "y") + path[-2:]
    page = client.get(tampered, follow=True)
    assert b"This link has expired" in page.content
    user.refresh_from_db()
    assert user.check_password(OLD)


def test_bad_input_is_a_form_error_not_a_500(client: Client) -> None:
    for value in ("not-an-email", "a" * 400 + "@example.com", ""):
        response = client.post(reverse("accounts:password_reset"), {"email": value})
        assert response.status_code == 200
        assert 'role="alert"' in response.content.decode()
    assert mail.outbox == []


@override_settings(PASSWORD_RESET_EMAIL_RATE="2/hour", PASSWORD_RESET_IP_RATE="4/hour")
def test_reset_requests_are_rate_limited(client: Client) -> None:
    make_user("ana@example.com")
    url = reverse("accounts:password_reset")
    for _ in range(2):
        assert client.post(url, {"email": "ana@example.com"}).status_code == 302
    refused = client.post(url, {"email": "ana@example.com"})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert len(mail.outbox) == 2
    # An address without an account is refused the same way: no hint either way.
    for _ in range(2):
        assert client.post(url, {"email": "nobody@example.com"}).status_code == 302
    assert client.post(url, {"email": "third@example.com"}).status_code == 429  # per IP


def test_a_new_password_ends_the_accounts_other_sessions(client: Client) -> None:
    user = make_user("ana@example.com", password=OLD)
    elsewhere = Client()
    elsewhere.force_login(user)
    assert elsewhere.get(reverse("addresses:list")).status_code == 200
    client.post(reverse("accounts:password_reset"), {"email": "ana@example.com"})
    path = "/" + link_in(mail.outbox[0]).split("/", 3)[3]
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert elsewhere.get(reverse("addresses:list")).status_code == 302  # signed out
