from django.contrib import admin
from django.urls import include, path

from messenger import views

messenger_patterns = [
    path("", views.home, name="home"),
    path("brevlador/nav/", views.nav, name="nav"),
    path("brevlador/<int:pk>/", views.mailbox, name="mailbox"),
]

urlpatterns = [
    path("", include((messenger_patterns, "messenger"))),
    path("konto/", include("accounts.urls")),
    path("", include("mailboxes.urls")),  # behorighet/… and forvaltning/brevlador/…
    path("i18n/", include("django.conf.urls.i18n")),
    path("forvaltning/django/", admin.site.urls),
]
