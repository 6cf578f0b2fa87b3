from django.dispatch import Signal

# Sent with user= and employment= when a person changes the organisation they work in (R18).
# audit records it; accounts itself knows nothing of the log.
organisation_switched = Signal()

# Sent with user= and version= when a user accepts a version of the confidentiality agreement.
agreement_accepted = Signal()

# Sent with actor=, employment=, old_roles=, new_roles= and reason= when someone changes the roles
# a person holds in an organisation (R18, R22). audit records who, when, what and why.
roles_changed = Signal()

# Sent with hsa_id= (may be empty) and detail= when single sign-on refuses someone: a person the
# catalogue does not know, or a response from the identity provider that does not hold up.
sso_refused = Signal()
