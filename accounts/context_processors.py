from typing import Any

from django.http import HttpRequest


def working_organisation(request: HttpRequest) -> dict[str, Any]:
    return {
        "employment": getattr(request, "employment", None),
        "employments": getattr(request, "employments", []),
    }
