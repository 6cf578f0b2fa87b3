"""What `manage.py seed_demo` puts in: Region Värmland, its mailboxes, demo people and threads."""

import base64
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


# The demo users' authenticator-app secrets (base32, as an app or `oathtool --totp -b` takes them),
# fixed so that anyone can sign in with a code: listed in the README. Demo only; a real user's
# secret is random and shown once, when they set up their app.
TOTP_SECRETS: dict[str, str] = {
    "anna": "7NHB7EVMON26YXFXKKLDYXXLZ3Y235AF",
    "bo": "U6P4GZM6X6BMHZHETQWKJIK773K7KMA4",
    "cecilia": "MEWLTHIVYEA73L6CG62234KKK5ELREKI",
    "david": "7FCWOSZI4LCHCWBHD6YCRGV6JIS53T32",
    "eva": "CLKSUZS2MWF4WGEGATL4TKA25QBSSBDJ",
    "fredrik": "N2YC53YRHTZ6OIZKJ52ZFC2XCAAIMLHR",
    "admin": "DVRFMA6WIR55HT3HJ46GXSK2FW55ISOP",
    "gustav": "WVJOT4B3MWKABXURFZXXD7KYK6Z7QBNE",
}


def totp_key_hex(username: str) -> str:
    """A demo user's secret as django-otp stores it (hex)."""
    return base64.b32decode(TOTP_SECRETS[username]).hex()
