from django.urls import path

from mailboxes.views import access, administration, notifications

app_name = "mailboxes"

urlpatterns = [
    # A person's notifications and e-mail choices.
    path("aviseringar/", notifications.notification_list, name="notifications"),
    path("aviseringar/e-post/", notifications.email_settings, name="email_settings"),
    # Access requests and grants (R17), for everyone and for access approvers.
    path("behorighet/", access.my_access, name="my_access"),
    path("behorighet/ansok/", access.request_create, name="request_create"),
    path("behorighet/<int:pk>/lamna/", access.grant_give_up, name="grant_give_up"),
    path("behorighet/beslut/", access.approvals, name="approvals"),
    path("behorighet/beslut/<int:pk>/", access.request_decide, name="request_decide"),
    path("behorighet/granskning/", access.grant_review, name="grant_review"),
    path("behorighet/granskning/<int:pk>/avsluta/", access.grant_end_view, name="grant_end"),
    # Mailbox administration (R3, R5, R14, R24), for system administrators.
    path("forvaltning/brevlador/", administration.mailbox_list, name="admin_mailboxes"),
    path("forvaltning/brevlador/ny/", administration.mailbox_new, name="admin_mailbox_new"),
    path("forvaltning/brevlador/<int:pk>/", administration.mailbox_edit, name="admin_mailbox"),
    path(
        "forvaltning/brevlador/<int:pk>/rutin/",
        administration.routine_edit,
        name="admin_routine",
    ),
    path(
        "forvaltning/brevlador/<int:pk>/stang/",
        administration.mailbox_close_view,
        name="admin_mailbox_close",
    ),
    path("forvaltning/forvalslistor/", administration.address_lists, name="admin_address_lists"),
    path(
        "forvaltning/forvalslistor/<int:organisation_id>/",
        administration.address_list_edit,
        name="admin_address_list",
    ),
    path(
        "forvaltning/forvalslistor/<int:organisation_id>/<int:pk>/ta-bort/",
        administration.address_list_entry_remove,
        name="admin_address_list_remove",
    ),
]
