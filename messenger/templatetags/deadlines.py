"""The reply clock as the lists and the thread page show it (R9)."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from messenger.models import Deadline
from messenger.templatetags.stamps import stamp

register = template.Library()


def _when(moment: datetime, pattern: str) -> str:
    return date_format(timezone.localtime(moment), pattern)


def _late(deadline: Deadline, hours: str, minutes: str) -> str:
    # Whole hours, and minutes for the first hour: "0 h" would read as on time.
    if deadline.hours_late:
        return hours % {"hours": deadline.hours_late}
    return minutes % {"minutes": deadline.minutes_late}


def _closed(css_class: str, label: str, moment: datetime) -> SafeString:
    return format_html(
        '<span class="deadline {}">{} · <span class="deadline-date">{}</span></span>',
        css_class,
        label,
        stamp(moment),
    )


@register.simple_tag
def deadline_badge(deadline: Deadline | None) -> SafeString:
    """A line per list row: built here rather than by an included template, which cost a
    template render per row."""
    if deadline is None:
        return format_html(
            '<span class="deadline deadline-none">{}</span>', _("Ingen svarstid (för kännedom)")
        )
    if deadline.is_met and deadline.answered_at:
        return _closed("deadline-met", _("Besvarad i tid"), deadline.answered_at)
    if deadline.is_followed_up and deadline.followed_up_at:
        return _closed("deadline-late", _("Uppföljd per telefon"), deadline.followed_up_at)
    if deadline.is_answered_late:
        late = _late(
            deadline, _("Besvarad %(hours)s h för sent"), _("Besvarad %(minutes)s min för sent")
        )
        return format_html('<span class="deadline deadline-late">{}</span>', late)
    due = _when(deadline.due, "D j b H:i")
    if deadline.is_overdue:
        return format_html(
            '<span class="deadline deadline-overdue"><strong>{}</strong> · {} '
            '<span class="deadline-date">{}</span></span>',
            _late(deadline, _("försenad %(hours)s h"), _("försenad %(minutes)s min")),
            _("svar senast"),
            due,
        )
    if deadline.hours_left:
        left = _("%(hours)s h kvar") % {"hours": deadline.hours_left}
    else:
        left = _("%(minutes)s min kvar") % {"minutes": deadline.minutes_left}
    return format_html(
        '<span class="deadline deadline-open">{} <span class="deadline-date">{}</span> · '
        "<strong>{}</strong></span>",
        _("svar senast"),
        due,
        left,
    )
