"""R7: the headings from Region Värmland's routine, in its order.

Imported by the data migration and by seed_demo (tests flush tables, so the demo loader makes sure
they are there). "För kännedom" asks no action and has no reply deadline (R8). Beyond this seed,
the code asks `Category.requires_action`, never a name: administrators may rename any heading.
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
    """Seeds the R7 headings into an empty list. Once there is a list it is the administrators':
    a heading they renamed is not put back under its old name."""
    if category_model.objects.exists():
        return
    for position, name in enumerate(R7_CATEGORIES):
        category_model.objects.get_or_create(
            name=name,
            defaults={"position": position, "requires_action": name != FOR_INFORMATION},
        )
