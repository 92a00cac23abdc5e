from django.urls import path

from apps.storefront import views

# The shop's catalog pages keep their URL names (catalog:home, catalog:product, ...): URL
# space is not app space, and models, templates, cart and accounts reverse these names.
app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("p/<slug:slug>/", views.product, name="product"),
]
