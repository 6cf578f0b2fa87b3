from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import Employment, User


class AppRequest(HttpRequest):
    """The request as our middleware leaves it, for typing views."""

    htmx: HtmxDetails
    user: User
    employment: Employment | None
    employments: list[Employment]
