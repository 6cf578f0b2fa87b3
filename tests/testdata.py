"""Skatteverket's test personal identity numbers, read from shared/testdata when it is there."""

from pathlib import Path

from messenger.demo import TEST_PATIENTS

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "testpersonnummer.txt"


def load_test_patients() -> list[str]:
    if _SHARED.exists():
        lines = _SHARED.read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return list(TEST_PATIENTS)


PATIENTS = load_test_patients()
PATIENT = PATIENTS[0]
