from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "apps.checkout"
    label = "checkout"

    def ready(self) -> None:
        from apps.accounts.hooks import on_sign_in
        from apps.checkout.demo import seed_demo_shipping_and_tax
        from apps.checkout.services import follow_cart_on_sign_in
        from apps.core.demo import register_seeder

        # After promotions (20): nothing depends on these rows.
        register_seeder("checkout", seed_demo_shipping_and_tax, order=30)
        # After the cart's handler (INSTALLED_APPS order): the merge has run, so the
        # checkout session can follow the customer's cart.
        on_sign_in.register(follow_cart_on_sign_in)
