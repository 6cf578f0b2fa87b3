"""Statistics for invoicing (R19): a statistics reader sees their organisation, the system
administrator any organisation or the whole region; everyone else gets 404, the CSV too.

The period is read from GET: it holds months and an organisation, never patient data."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.http import AppRequest
from accounts.models import Organisation
from mailboxes.selectors import require_statistics_reader
from messenger.forms import StatisticsForm
from messenger.spreadsheet import cell, excel_csv
from messenger.statistics import Report, default_period, report, shown

CSV_COLUMNS = [
    "Månad",
    "Organisation",
    "Motpart",
    "Kategori",
    "Skickade",
    "Mottagna",
    "Frågor med avslutad svarstid",
    "Besvarade inom svarstiden",
    "Andel inom svarstiden",
    "Mediantid till svar",
    "Försenade",
    "Vidarebefordrade trådar",
]

# The page's table stops here: the whole region over a year is tens of thousands of rows, which
# belong in the CSV, not in a page of several megabytes.
TABLE_ROWS = 1000
CHART_HEIGHT = 160  # the bars' drawing area in the SVG, in user units


@login_required
@require_GET
def statistics(request: AppRequest) -> HttpResponse:
    organisations = None
    if request.user.is_superuser:
        organisations = Organisation.objects.order_by("name")
        own = None
    else:
        own = require_statistics_reader(request.employment).organisation
    today = timezone.localdate()
    first, last = default_period(today)
    data = request.GET if "start" in request.GET else None
    initial = {"start": first, "end": last}
    form = StatisticsForm(data, initial=initial, organisations=organisations, today=today)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "messenger/statistics.html",
            {"form": form, "organisation": own},
            status=400,
        )
    if form.is_bound:
        first = form.cleaned_data["start"].replace(day=1)
        last = form.cleaned_data["end"].replace(day=1)
        organisation = own if own is not None else form.cleaned_data.get("organisation")
    else:
        organisation = own
    result = report(organisation, first, last)
    if request.GET.get("format") == "csv":
        return _csv(result)
    return render(
        request,
        "messenger/statistics.html",
        {
            "form": form,
            "organisation": organisation,
            "report": result,
            "rows": result.rows[:TABLE_ROWS],
            "rows_left": max(0, len(result.rows) - TABLE_ROWS),
            **_chart(result),
        },
    )


def _csv(result: Report) -> HttpResponse:
    return excel_csv(
        f"statistik-{result.first:%Y-%m}-{result.last:%Y-%m}.csv",
        CSV_COLUMNS,
        (
            [
                f"{row.month:%Y-%m}",
                cell(row.organisation),
                cell(row.counterpart),
                cell(row.category),
                row.sent_text,
                row.received_text,
                row.questions_text,
                row.within_text,
                row.share(),
                row.median_text(),
                row.overdue_text,
                row.forwarded_text,
            ]
            for row in result.rows
        ),
    )


def _chart(result: Report) -> dict[str, Any]:
    """Bars per month, sent and received, in SVG user units. The totals add up only counts the
    table shows (`report`), so none is from 1 to 4."""
    peak = max([m.sent for m in result.months] + [m.received for m in result.months] + [1])
    step = 48
    bars = []
    for index, month in enumerate(result.months):
        x = 40 + index * step
        pair = []
        for offset, value, kind in ((0, month.sent, "sent"), (18, month.received, "received")):
            label = shown(value)
            height = round(CHART_HEIGHT * value / peak)
            pair.append(
                {
                    "x": x + offset,
                    "y": 20 + CHART_HEIGHT - height,
                    "height": height,
                    "label": label,
                    "label_y": 20 + CHART_HEIGHT - height - 4,
                    "text_x": x + offset + 8,
                    "kind": kind,
                }
            )
        bars.append({"month": month.month, "x": x + 17, "bars": pair})
    return {
        "chart_bars": bars,
        "chart_width": 40 + len(result.months) * step + 10,
        "chart_base": 20 + CHART_HEIGHT,
        "chart_label_y": 20 + CHART_HEIGHT + 16,
    }
