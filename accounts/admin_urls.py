"""The accounts pages of the app's own administration (/forvaltning/), for system administrators."""

from django.urls import path

from accounts import two_factor_views

app_name = "accounts_admin"

urlpatterns = [
    path(
        "tvastegsverifiering/",
        two_factor_views.reset_search,
        name="two_factor_reset_search",
    ),
    path(
        "tvastegsverifiering/<int:user_id>/",
        two_factor_views.reset,
        name="two_factor_reset",
    ),
]
