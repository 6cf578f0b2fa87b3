"""R7: the headings from Region Värmland's routine, in its order.

Imported by the data migration and by seed_demo (tests flush tables, so the demo loader makes sure
they are there). "För kännedom" asks no action and has no reply deadline (R8).
"""

from typing import Any

FOR_INFORMATION = "För kännedom"

R7_CATEGORIES = [
    "Recept",
    "Läkemedel",
    "Frågeställning",
    "Konsultation läkare",
    "Provtagning",
    "Rehabilitering",
    "Samordnande sjuksköterska",
    FOR_INFORMATION,
    "Påminnelse",
    "Uppföljning",
    "Utredande åtgärder",
]


def ensure_categories(category_model: Any) -> None:
    """Adds any R7 heading that is missing; leaves administrators' edits alone."""
    for position, name in enumerate(R7_CATEGORIES):
        category_model.objects.get_or_create(
            name=name,
            defaults={"position": position, "requires_action": name != FOR_INFORMATION},
        )
