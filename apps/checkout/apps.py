from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "apps.checkout"
    label = "checkout"

    def ready(self) -> None:
        from apps.checkout.demo import seed_demo_shipping_and_tax
        from apps.core.demo import register_seeder

        # After promotions (20): nothing depends on these rows.
        register_seeder("checkout", seed_demo_shipping_and_tax, order=30)
