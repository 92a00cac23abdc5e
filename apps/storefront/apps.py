from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    """Home, category, search and product pages: catalog data with inventory's stock."""

    name = "apps.storefront"
    label = "storefront"
