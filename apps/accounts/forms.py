"""Sign-in and sign-up forms: email is the username.

Every field is bounded by what the user model can store, so oversized input is a form
error, never a database error (500)."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from apps.accounts import throttle
from apps.core.ratelimit import client_ip


def _model_max_length(*names: str) -> int:
    """The tightest max_length of these user model fields (email is also the username)."""
    meta = get_user_model()._meta
    lengths = [getattr(meta.get_field(name), "max_length", None) for name in names]
    return min(length for length in lengths if isinstance(length, int))


EMAIL_MAX_LENGTH = _model_max_length("username", "email")
NAME_MAX_LENGTH = min(50, _model_max_length("first_name", "last_name"))
PASSWORD_MAX_LENGTH = 128


def _too_long(what: str) -> dict[str, str]:
    return {"max_length": f"{what} can be at most %(limit_value)d characters long."}


class DescribedErrorsForm(forms.Form):
    """A form whose invalid inputs point at their error message (aria-describedby) and
    say they are invalid (aria-invalid), for screen-reader users. The message element's
    id is "<input id>-error" (templates/accounts/_field.html)."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"


class SignInForm(DescribedErrorsForm):
    email = forms.EmailField(
        max_length=320, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages=_too_long("Password"),
    )

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: AbstractBaseUser | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            attempt = _reserve(self.request, email)
            user = authenticate(self.request, username=email.lower(), password=password)
            if user is None:
                raise forms.ValidationError(
                    "That email and password don't match an account.", code="invalid_login"
                )
            attempt.succeeded()
            self.user = user
        return cleaned


def _reserve(request: HttpRequest | None, email: str) -> throttle.Attempt:
    """Reserve a sign-in attempt before the password is checked; refuse when over the
    limit (the form error's code is "throttled")."""
    attempt = throttle.reserve(email, client_ip(request) if request is not None else "")
    if not attempt.allowed:
        raise forms.ValidationError(throttle.locked_message(attempt.retry_after), code="throttled")
    return attempt


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form under the storefront's limits (one shared budget)."""

    def clean(self) -> dict[str, Any]:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not (username and password):
            return super().clean()
        attempt = _reserve(self.request, str(username))
        cleaned = super().clean()  # checks the password and that the user is staff
        attempt.succeeded()
        return cleaned


class SignUpForm(DescribedErrorsForm):
    first_name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages=_too_long("First name"),
    )
    last_name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages=_too_long("Last name"),
    )
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages=_too_long("Email"),
    )
    password = forms.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages=_too_long("Password"),
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            probe = get_user_model()(
                username=cleaned.get("email", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned
