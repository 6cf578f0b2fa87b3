"""audit is the ground floor: `audit` ← `accounts` ← `mailboxes` ← `messenger`. Every app writes
to the access log; the log knows none of them, so it can be read, kept and tested on its own."""

import ast
from pathlib import Path

import pytest

import audit

HIGHER_APPS = {"accounts", "mailboxes", "messenger"}
AUDIT_DIR = Path(audit.__file__).parent


def reaches_up(source: str) -> list[str]:
    """Each place in the source that names a higher app, as "line module": an import, or a
    string handed to apps.get_model() or importlib.import_module()."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get_model", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules = [node.args[0].value]
        else:
            continue
        found += [
            f"{node.lineno} {module}" for module in modules if module.split(".")[0] in HIGHER_APPS
        ]
    return found


def test_audit_imports_none_of_the_apps_above_it():
    files = sorted(AUDIT_DIR.rglob("*.py"))
    assert AUDIT_DIR / "services.py" in files
    assert AUDIT_DIR / "apps.py" in files
    offending = {
        str(path.relative_to(AUDIT_DIR.parent)): places
        for path in files
        if (places := reaches_up(path.read_text()))
    }
    assert offending == {}


@pytest.mark.parametrize(
    "line",
    [
        "from accounts.models import User",
        "import mailboxes.models",
        "from messenger import services",
        "def f():\n    from accounts import receivers",
        'apps.get_model("accounts", "User")',
        'importlib.import_module("messenger.services")',
    ],
)
def test_the_check_sees_each_way_of_reaching_up(line):
    # So the test above cannot pass by looking in the wrong places.
    assert reaches_up("from django.db import models\n" + line) != []


def test_the_check_lets_audits_own_and_djangos_imports_be():
    assert reaches_up("from audit.models import AccessLog\nfrom django.apps import apps") == []
