import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_TAG = re.compile(r"<\s*[a-zA-Z/!?]")


def no_markup(value: str) -> None:
    """Text only: anything that looks like an HTML tag or script is refused, not silently kept."""
    if _TAG.search(value or ""):
        raise ValidationError(
            _("Texten får inte innehålla HTML eller skript (till exempel <b> eller <script>)."),
            code="markup",
        )
