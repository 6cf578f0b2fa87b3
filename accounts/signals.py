from django.dispatch import Signal

# Sent with user= and employment= when a person changes the organisation they work in (R18).
# audit records it; accounts itself knows nothing of the log.
organisation_switched = Signal()
