"""The address book pages under /account/addresses/ (signed-in customers only).

Thin: the form checks, apps.checkout.address_book reads and writes. Another customer's
address id is a 404, never a 403, so ids reveal nothing. Writes are POST with CSRF."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.checkout import address_book, selectors
from apps.checkout.address_forms import AddressBookForm
from apps.checkout.models import Address


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _owned(request: HttpRequest, address_id: int) -> Address:
    try:
        return address_book.get_for_user(_user(request), address_id)
    except Address.DoesNotExist:
        raise Http404("No such address") from None


@never_cache
@login_required
@require_GET
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = list(address_book.addresses_for(_user(request)))
    return render(request, "checkout/address_book/list.html", {"addresses": addresses})


def _edit(request: HttpRequest, address: Address | None) -> HttpResponse:
    initial: dict[str, object] = {}
    if address is not None:
        initial = {
            **selectors.address_data(address).as_dict(),
            "default_shipping": address.is_default_shipping,
            "default_billing": address.is_default_billing,
        }
    form = AddressBookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and form.address is not None:
        saved = address_book.save_address(
            _user(request),
            form.address,
            address_id=address.pk if address else None,
            default_shipping=form.cleaned_data["default_shipping"],
            default_billing=form.cleaned_data["default_billing"],
        )
        messages.success(request, "Address saved." if address else "Address added.")
        return redirect(reverse("addresses:list") + f"#address-{saved.pk}")
    template = "checkout/address_book/form.html"
    status = 400 if form.is_bound and form.errors and not form.awaiting_choice else 200
    return render(request, template, {"form": form, "address": address}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def address_add(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    return _edit(request, _owned(request, address_id))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    address = _owned(request, address_id)
    if request.method == "POST":
        address_book.delete_address(_user(request), address.pk)
        messages.success(request, "Address deleted.")
        return redirect("addresses:list")
    return render(request, "checkout/address_book/delete.html", {"address": address})


@login_required
@require_POST
def address_set_default(request: HttpRequest, address_id: int, kind: str) -> HttpResponse:
    if kind not in address_book.DEFAULT_KINDS:
        raise Http404("No such default")
    address = _owned(request, address_id)
    which: address_book.DefaultKind = "shipping" if kind == "shipping" else "billing"
    address_book.set_default(_user(request), address.pk, which)
    messages.success(request, f"Default {kind} address updated.")
    return redirect(reverse("addresses:list") + f"#address-{address.pk}")
