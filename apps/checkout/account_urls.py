"""The address book, served under /account/addresses/ (config/urls.py)."""

from django.urls import path

from apps.checkout import address_views

app_name = "addresses"

urlpatterns = [
    path("", address_views.address_list, name="list"),
    path("new/", address_views.address_add, name="add"),
    path("<int:address_id>/edit/", address_views.address_edit, name="edit"),
    path("<int:address_id>/delete/", address_views.address_delete, name="delete"),
    path(
        "<int:address_id>/default/<str:kind>/",
        address_views.address_set_default,
        name="set_default",
    ),
]
