from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "apps.cart"
    label = "cart"

    def ready(self) -> None:
        from apps.accounts.hooks import on_sign_in
        from apps.cart.signin import merge_on_sign_in

        on_sign_in.register(merge_on_sign_in)
