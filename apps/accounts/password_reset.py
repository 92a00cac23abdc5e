"""Password reset for customers: Django's auth views in the shop's templates.

The answer never says whether an email has an account (Django's view redirects to the
same "check your inbox" page either way). The link in the email is built from
settings.SITE_URL, not from the request's Host header, so a forged Host cannot make the
shop mail out a link to someone else's site. Requests are limited per client IP and
per email address (one inbox cannot be flooded with reset mails); a refusal looks the
same whether or not the address has an account.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy

from apps.accounts.forms import EMAIL_MAX_LENGTH, DescribedErrorsForm
from apps.accounts.throttle import locked_message
from apps.core.ratelimit import Limit, Outage, client_ip

PASSWORD_RESET = Limit(
    scope="password_reset",
    rate_settings={"ip": "PASSWORD_RESET_IP_RATE", "email": "PASSWORD_RESET_EMAIL_RATE"},
    defaults={"ip": "10/hour", "email": "3/hour"},
    when_redis_is_down=Outage.LOCAL,
)


class ResetRequestForm(auth_forms.PasswordResetForm, DescribedErrorsForm):
    email = forms.EmailField(
        label="Email",
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Enter an email address like name@example.com."},
    )

    def get_users(self, email: str) -> Any:
        # Longer than any stored address: no account, and no query with it.
        if len(email) > EMAIL_MAX_LENGTH:
            return iter(())
        return super().get_users(email)


class NewPasswordForm(auth_forms.SetPasswordForm, DescribedErrorsForm):
    """Django's set-password form with the shop's accessible error wiring."""


class RequestView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    form_class = ResetRequestForm

    def form_valid(self, form: Any) -> HttpResponse:
        email = str(form.cleaned_data["email"]).strip().lower()
        decision = PASSWORD_RESET.hit({"ip": client_ip(self.request), "email": email})
        if not decision.allowed:
            form.add_error(None, locked_message(decision.retry_after))
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(decision.retry_after)
            return response
        self.extra_email_context = {"site_url": settings.SITE_URL, "shop_name": settings.SHOP_NAME}
        return super().form_valid(form)


class DoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["link_lifetime"] = _lifetime(int(settings.PASSWORD_RESET_TIMEOUT))
        return context


def _lifetime(seconds: int) -> str:
    """PASSWORD_RESET_TIMEOUT in words: "3 days", "1 hour"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "a minute"


class ConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    form_class = NewPasswordForm


class CompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
