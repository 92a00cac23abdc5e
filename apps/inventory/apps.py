from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    label = "inventory"

    def ready(self) -> None:
        from apps.core.demo import register_seeder
        from apps.inventory.demo import seed_stock_summary

        # After the catalog (10), whose variants it stocks; before promotions (20).
        register_seeder("inventory", seed_stock_summary, order=15)
