from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "apps.promotions"
    label = "promotions"

    def ready(self) -> None:
        from apps.core.demo import register_seeder
        from apps.promotions.demo import seed_demo_coupons

        register_seeder("promotions", seed_demo_coupons, order=20)
