"""CSV for Swedish Excel: the log extract (R18) and the statistics (R19) both download one."""

import csv
from collections.abc import Iterable

from django.http import HttpResponse


def cell(value: str) -> str:
    """A text Excel will not take for a formula (a name that begins with "=" or "+")."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def excel_csv(filename: str, header: list[str], rows: Iterable[list[str]]) -> HttpResponse:
    """A CSV download Swedish Excel opens as it is: UTF-8 with a BOM, semicolons. The caller
    passes free text through `cell`; `filename` must name no patient (it is kept in download
    folders and lists)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # the BOM: Excel then reads the file as UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return response
