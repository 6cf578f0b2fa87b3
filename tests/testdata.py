"""Skatteverket's test personal identity numbers: the only patients tests may use."""

from messenger.demo import TEST_PATIENTS

PATIENTS = TEST_PATIENTS
PATIENT = PATIENTS[0]
