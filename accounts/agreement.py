"""The confidentiality agreement (sekretessförbindelse, R17), every version ever published.

Versions live in code, so the exact text a user accepted can always be shown again. Publishing a
new version is adding an entry here: every user is asked again at their next request.
"""

VERSIONS: dict[int, str] = {
    1: (
        "Sekretessförbindelse för Funktionsbrevlådan\n\n"
        "Jag förbinder mig att inte obehörigen röja eller utnyttja uppgifter om enskildas "
        "hälsotillstånd eller andra personliga förhållanden som jag får del av i "
        "Funktionsbrevlådan. Tystnadsplikten och sekretessen gäller även efter att min "
        "anställning eller mitt uppdrag har upphört (offentlighets- och sekretesslagen "
        "2009:400, patientsäkerhetslagen 2010:659).\n\n"
        "Jag tar bara del av uppgifter som jag behöver i mitt arbete med patienten. Jag vet "
        "att varje läsning loggas och att loggarna kontrolleras (patientdatalagen 2008:355).\n\n"
        "Jag lämnar inte ut mitt konto eller mina inloggningsuppgifter till någon annan och "
        "loggar ut när jag lämnar datorn. Utskrifter är arbetsmaterial som förstörs när "
        "ärendet är avslutat.\n\n"
        "Jag känner till att brott mot tystnadsplikten kan leda till disciplinära åtgärder "
        "och straffansvar."
    ),
}

CURRENT_VERSION: int = max(VERSIONS)

# The session remembers the highest version the user has accepted, so the gate costs no query.
SESSION_KEY = "agreement_version"


def current_text() -> str:
    return VERSIONS[CURRENT_VERSION]
