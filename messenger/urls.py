from django.urls import URLPattern, URLResolver, include, path

from messenger.views import (
    categories,
    compose,
    help,
    home,
    legal_hold,
    log_control,
    log_review,
    mailbox,
    notices,
    operations,
    statistics,
    support,
    thread,
)

thread_patterns: list[URLPattern | URLResolver] = [
    path("", thread.thread, name="thread"),
    path("svara/", thread.reply, name="reply"),
    path("journallank/", thread.attach_link, name="attach_link"),
    path("uppfoljning/", thread.follow_up, name="follow_up"),
    path("flytta/", thread.move, name="move"),
    path("olast/", thread.mark_unread, name="mark_unread"),
    path("vidarebefordra/", thread.forward, name="forward"),
    path("utskrift/", thread.print_view, name="print"),
]

messenger_patterns: list[URLPattern | URLResolver] = [
    path("", home.home, name="home"),
    path("brevlador/nav/", home.nav, name="nav"),
    path("brevlador/<int:pk>/", mailbox.folder, name="mailbox"),
    path("brevlador/<int:pk>/sok/", mailbox.search, name="search"),
    path("brevlador/<int:pk>/vantar-pa-svar/", mailbox.waiting, name="waiting"),
    path("brevlador/<int:pk>/tom-papperskorgen/", mailbox.empty_trash, name="empty_trash"),
    path("brevlador/<int:pk>/franvaro/", mailbox.absence, name="absence"),
    path("brevlador/<int:pk>/reservutskrift/", mailbox.reserve_print_view, name="reserve_print"),
    path("brevlador/<int:pk>/nytt/", compose.compose, name="compose"),
    path("brevlador/<int:pk>/mottagare/", compose.recipients, name="recipients"),
    path("brevlador/<int:mailbox_pk>/arenden/<int:thread_pk>/", include(thread_patterns)),
    # Log control and patients' log extracts (R18), for log reviewers.
    path("statistik/", statistics.statistics, name="statistics"),
    path("loggkontroll/", log_control.log_control, name="log_control"),
    path("loggkontroll/logguttag/", log_control.extract, name="log_extract"),
    path("loggkontroll/granskningar/", log_review.review_list, name="log_reviews"),
    path("loggkontroll/granskningar/<int:pk>/", log_review.review_detail, name="log_review"),
    path(
        "loggkontroll/granskningar/<int:pk>/rader/<int:item_pk>/",
        log_review.review_mark,
        name="log_review_mark",
    ),
    path(
        "loggkontroll/granskningar/<int:pk>/avsluta/",
        log_review.review_close,
        name="log_review_close",
    ),
    # Support and fault reports (R22): everyone's own; superusers and administrators handle them.
    path("support/", support.support_page, name="support"),
    path("support/hantera/", support.queue, name="support_queue"),
    path("support/<int:pk>/", support.report, name="support_report"),
    path("support/<int:pk>/svara/", support.answer, name="support_answer"),
    path("support/<int:pk>/avsluta/", support.close, name="support_close"),
    path("support/<int:pk>/eskalera/", support.escalate, name="support_escalate"),
    # Help and e-learning (R23).
    path("hjalp/", help.index, name="help"),
    path("hjalp/kom-igang/", help.self_test, name="self_test"),
    path("hjalp/kom-igang/personal/", help.self_test_staff_list, name="self_test_staff"),
    path("hjalp/introduktion/klar/", help.tour_done, name="tour_done"),
    path("hjalp/<slug:slug>/", help.guide, name="help_guide"),
    path("tillganglighet/", help.accessibility, name="accessibility"),
    path("forvaltning/drift/", operations.operations, name="operations"),
    path("forvaltning/drift/forsok-igen/", operations.outbox_retry_failed, name="outbox_retry"),
    # The category list (R7), for system administrators.
    path("forvaltning/kategorier/", categories.category_list, name="admin_categories"),
    path("forvaltning/kategorier/ny/", categories.category_new, name="admin_category_new"),
    path("forvaltning/kategorier/<int:pk>/", categories.category_edit, name="admin_category"),
    # Legal hold (R16), for system administrators: a thread found by its number alone.
    path("forvaltning/bevarande/", legal_hold.holds, name="legal_holds"),
    path(
        "forvaltning/bevarande/<int:thread_pk>/hav/",
        legal_hold.release,
        name="legal_hold_release",
    ),
    # Notices about the system (R20): published by system administrators, read by everyone
    # signed in; the Atom feed is public (see messenger.views.notices.NoticeFeed).
    path("forvaltning/meddelanden/", notices.admin_list, name="admin_notices"),
    path("forvaltning/meddelanden/ny/", notices.admin_new, name="admin_notice_new"),
    path("forvaltning/meddelanden/<int:pk>/", notices.admin_edit, name="admin_notice"),
    path("forvaltning/meddelanden/<int:pk>/avsluta/", notices.admin_end, name="admin_notice_end"),
    path("meddelanden/", notices.notice_list, name="notices"),
    path("meddelanden/<int:pk>/last/", notices.mark_read, name="notice_read"),
    path("meddelanden/flode/", notices.notice_feed, name="notice_feed"),
    # Reserve routines for an outage (R21), for everyone signed in.
    path("reservrutiner/", notices.reserve_list, name="reserve_routines"),
]

urlpatterns = [
    path("", include((messenger_patterns, "messenger"))),
    path("konto/", include("accounts.urls")),
    path("forvaltning/", include("accounts.admin_urls")),  # tvastegsverifiering/…
    path("", include("mailboxes.urls")),  # behorighet/… and forvaltning/brevlador/…
    path("forvaltning/personer/", include("accounts.people_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
