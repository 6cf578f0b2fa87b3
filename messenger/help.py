"""Help and e-learning (R23): the guides under the Help menu and the self-test "Kom igång".

The guides' bodies are templates of their own per language (templates/help/sv/<slug>.html and
templates/help/en/<slug>.html), chosen by the active language: long texts read better whole
than cut into gettext strings. Their titles, and the self-test, go through gettext.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


@dataclass(frozen=True)
class Guide:
    slug: str
    title: "_StrPromise"


GUIDES: tuple[Guide, ...] = (
    Guide("skriva", _("Skriva ett meddelande")),
    Guide("kategorier-och-svarstid", _("Kategorier och svarstid")),
    Guide("vidarebefordra", _("Vidarebefordra till en kollega")),
    Guide("journallankar", _("Länkar till journalen")),
    Guide("behorighet", _("Behörighet")),
    Guide("loggkontroll", _("Loggkontroll")),
)
GUIDES_BY_SLUG = {guide.slug: guide for guide in GUIDES}


@dataclass(frozen=True)
class Question:
    key: str
    text: "_StrPromise"
    choices: tuple[tuple[str, "_StrPromise"], ...]
    right: str
    why: "_StrPromise"  # shown once answered, right or wrong


# The five rules every user must know: R9 (never urgent), R8 (För kännedom), R9 (72 hours),
# R12 (forward only to someone told) and R15 (a printout is a working document).
QUESTIONS: tuple[Question, ...] = (
    Question(
        "bradskande",
        _("Får du skicka ett brådskande ärende via Funktionsbrevlådan?"),
        (
            ("a", _("Ja, om jag skriver att det är brådskande i ämnesraden.")),
            ("b", _("Nej. Brådskande ärenden går aldrig via brevlådan, jag ringer i stället.")),
            ("c", _("Ja, men bara på kontorstid.")),
        ),
        "b",
        _("Brevlådan är aldrig till för brådskande ärenden; mottagaren har upp till 72 timmar."),
    ),
    Question(
        "for-kannedom",
        _("Vad betyder kategorin För kännedom?"),
        (
            ("a", _("Att mottagaren ska svara inom 72 timmar.")),
            ("b", _("Att ärendet är viktigare än andra.")),
            ("c", _("Att du inte vill att mottagaren gör något. Den ska undvikas.")),
        ),
        "c",
        _("För kännedom kräver ingen åtgärd och startar ingen svarstid, så den ska undvikas."),
    ),
    Question(
        "svarstid",
        _("Mottagaren har inte svarat på din fråga. Vad gäller?"),
        (
            ("a", _("Mottagaren har 72 timmar på sig; kommer inget svar tar jag kontakt själv.")),
            ("b", _("Svarstiden räknas bara på vardagar, så jag väntar en vecka till.")),
            ("c", _("Jag skickar samma fråga igen till en annan brevlåda.")),
        ),
        "a",
        _(
            "Svarstiden är 72 timmar, även helger. Kommer inget svar ansvarar du som frågade för "
            "att ta kontakt på annat sätt, oftast per telefon."
        ),
    ),
    Question(
        "vidarebefordra",
        _("Till vem får du vidarebefordra ett meddelande?"),
        (
            ("a", _("Till vilken brevlåda som helst i regionen.")),
            ("b", _("Till en namngiven kollega som vet att meddelandet kommer.")),
            ("c", _("Till en kollega utan konto, via vanlig e-post.")),
        ),
        "b",
        _(
            "Vidarebefordra bara till en namngiven kollega i din organisation som har fått veta "
            "att meddelandet kommer."
        ),
    ),
    Question(
        "utskrift",
        _("Vad gäller för en utskrift av ett meddelande?"),
        (
            ("a", _("Den sparas i patientens pärm.")),
            ("b", _("Den är ett arbetsunderlag som förstörs när ärendet är avslutat.")),
            ("c", _("Den ersätter en journalanteckning.")),
        ),
        "b",
        _("En utskrift är ett arbetsunderlag; journalen är den bestående dokumentationen."),
    ),
)
