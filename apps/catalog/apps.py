from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self) -> None:
        from apps.catalog.demo import seed_catalog_summary
        from apps.core.demo import register_seeder

        register_seeder("catalog", seed_catalog_summary, order=10)
