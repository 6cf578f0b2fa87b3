"""What `manage.py seed_demo` puts in: Region Värmland, its mailboxes, demo people and threads."""

from pathlib import Path

REGION = "Region Värmland"

# The 16 municipalities of Värmland and the health centres in each, which make up its preset list.
MUNICIPALITIES: dict[str, list[str]] = {
    "Arvika kommun": ["Arvika"],
    "Eda kommun": ["Eda"],
    "Filipstads kommun": ["Filipstad"],
    "Forshaga kommun": ["Forshaga"],
    "Grums kommun": ["Grums"],
    "Hagfors kommun": ["Hagfors"],
    "Hammarö kommun": ["Hammarö"],
    "Karlstads kommun": ["Gripen", "Herrhagen", "Kronoparken", "Rud", "Skåre", "Våxnäs"],
    "Kils kommun": ["Kil"],
    "Kristinehamns kommun": ["Kristinehamn"],
    "Munkfors kommun": ["Munkfors"],
    "Storfors kommun": ["Storfors"],
    "Sunne kommun": ["Sunne"],
    "Säffle kommun": ["Säffle"],
    "Torsby kommun": ["Torsby"],
    "Årjängs kommun": ["Årjäng"],
}

# Skatteverket's published test personal identity numbers, never assigned to a real person: a copy
# of shared/testdata/testpersonnummer.txt. Demo data, tests and benchmarks use only these.
TEST_PATIENTS = [
    line.strip()
    for line in (Path(__file__).parent / "testpersonnummer.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def municipality_mailbox_name(municipality: str) -> str:
    return f"{municipality} Hälso- och sjukvård (FBL)"


def health_centre_name(place: str) -> str:
    return f"Vårdcentralen {place}"


def health_centre_mailbox_name(place: str) -> str:
    # R2: senders always pick the mailbox named like this.
    return f"Vc {place} Allmänmedicinska mottagningen (FBL)"
