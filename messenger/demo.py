"""What `manage.py seed_demo` puts in: Region Värmland, its mailboxes, demo people and threads."""

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

# Skatteverket's test personal identity numbers (shared/testdata/testpersonnummer.txt): never
# assigned to a real person.
TEST_PATIENTS = [
    "200001012384",
    "200001011493",
    "200001022383",
    "200001032390",
    "200001042399",
    "200001052398",
]


def municipality_mailbox_name(municipality: str) -> str:
    return f"{municipality} Hälso- och sjukvård (FBL)"


def health_centre_name(place: str) -> str:
    return f"Vårdcentralen {place}"


def health_centre_mailbox_name(place: str) -> str:
    # R2: senders always pick the mailbox named like this.
    return f"Vc {place} Allmänmedicinska mottagningen (FBL)"
