"""The app's URLs and the benchmark's yardstick, `/bench/ok/` (bench/settings.py only)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.http import require_GET

from messenger.urls import urlpatterns as app_urlpatterns


@login_required
@require_GET
def ok(request: HttpRequest) -> HttpResponse:
    """The framework's limit: a signed-in user through every middleware, and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/ok/", ok, name="bench_ok"),
    *app_urlpatterns,
]
