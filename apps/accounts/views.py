"""Sign-in, sign-up and sign-out. After login, the sign-in hooks run (cart merge)."""

from typing import cast

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.models import AbstractBaseUser, User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.forms import SignInForm, SignUpForm
from apps.accounts.hooks import on_sign_in
from apps.accounts.services import EmailTaken, create_customer
from apps.core.redirects import safe_next_url


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: a same-site URL, else home."""
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    return safe_next_url(request, target, fallback=reverse("catalog:home"))


def _sign_in(request: HttpRequest, user: AbstractBaseUser) -> None:
    previous = dict(request.session.items())
    login(request, cast(User, user), backend="django.contrib.auth.backends.ModelBackend")
    on_sign_in.fire(request, user, previous)


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid() and form.user is not None:
            _sign_in(request, form.user)
            messages.success(request, "You're signed in.")
            return HttpResponseRedirect(_next_url(request))
        throttled = form.non_field_errors().as_data()
        if throttled and throttled[0].code == "throttled":
            messages.error(request, throttled[0].messages[0])
            form = SignInForm(request=request)
    return render(request, "accounts/sign_in.html", {"form": form, "next": _next_url(request)})


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = create_customer(
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except EmailTaken:
            form.add_error("email", "An account with this email already exists. Sign in instead.")
        else:
            _sign_in(request, user)
            messages.success(request, "Welcome! Your account is ready.")
            return HttpResponseRedirect(_next_url(request))
    return render(request, "accounts/sign_up.html", {"form": form, "next": _next_url(request)})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You're signed out.")
    return redirect("catalog:home")
