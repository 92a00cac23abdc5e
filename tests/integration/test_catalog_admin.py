"""Staff edits in Django admin, through the real admin views (pytest-django's admin_client).

`change_form_data` reads a rendered change page back into the POST a browser would send,
so each test changes only what it is about.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Product, ProductVariant
from tests.factories import make_product

pytestmark = pytest.mark.django_db

AssertMax = Callable[[int], AbstractContextManager[object]]


def _add_form(data: dict[str, Any], form: forms.BaseForm) -> None:
    for bound in form:
        widget = bound.field.widget
        if isinstance(bound.field, forms.FileField):
            continue  # not re-uploaded: the stored file is kept
        value = bound.value()
        if isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
            continue
        if value is None:
            continue
        data[bound.html_name] = list(value) if isinstance(value, list | tuple) else value


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST body of an admin change page as rendered (main form and every inline)."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        _add_form(data, inline.formset.management_form)
        for form in inline.formset.forms:
            _add_form(data, form)
    return data


def change_url(obj: object) -> str:
    meta = obj._meta  # type: ignore[attr-defined]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])  # type: ignore[attr-defined]


def form_errors(response: Any) -> str:
    """Every error the change page shows: main form, inline forms and non-form errors."""
    parts = [str(response.context["adminform"].form.errors)]
    for inline in response.context["inline_admin_formsets"]:
        parts.append(str(inline.formset.errors))
        parts.append(str(inline.formset.non_form_errors()))
    return " ".join(parts)


# --- Variant options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('[{"name": "Size"}]', "exactly"),
        ('{"Size": "M"}', "must be a list"),
        ('[{"name": "Size", "value": "M"}, {"name": "Size", "value": "L"}]', "given twice"),
        ('[{"name": "", "value": "M"}]', "must not be empty"),
        ('[{"name": "Size", "value": 5}]', "must be text"),
    ],
)
def test_variant_admin_refuses_malformed_options(
    admin_client: Client, options: str, message: str
) -> None:
    variant = make_product("Tee").variants.get()
    url = change_url(variant)
    data = change_form_data(admin_client.get(url))
    data["options"] = options
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors["options"])
    variant.refresh_from_db()
    assert variant.options == []


def test_variant_admin_saves_well_formed_options(admin_client: Client) -> None:
    variant = make_product("Tee").variants.get()
    url = change_url(variant)
    data = change_form_data(admin_client.get(url))
    data["options"] = '[{"name": "Size", "value": "M"}]'
    assert admin_client.post(url, data).status_code == 302
    variant.refresh_from_db()
    assert variant.option_map() == {"Size": "M"}


def test_product_admin_variant_inline_refuses_malformed_options(admin_client: Client) -> None:
    product = make_product("Tee")
    url = change_url(product)
    data = change_form_data(admin_client.get(url))
    data["variants-0-options"] = '[{"name": "Size", "value": "M"}, {"name": "size", "value": "L"}]'
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "given twice" in form_errors(response)
    assert ProductVariant.objects.get(product=product).options == []
    assert Product.objects.filter(pk=product.pk).exists()
