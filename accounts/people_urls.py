"""/forvaltning/personer/…: people, for system administrators (accounts/admin_views.py)."""

from django.urls import path

from accounts import admin_views

app_name = "people"

urlpatterns = [
    path("", admin_views.people, name="people"),
    path("ny/", admin_views.person_new, name="person_new"),
    path("<int:pk>/", admin_views.person, name="person"),
    path(
        "anstallning/<int:pk>/avsluta/",
        admin_views.employment_end_view,
        name="employment_end",
    ),
]
