from django.urls import path

from accounts import sso, two_factor_views, views
from accounts.forms import LoginForm

app_name = "accounts"

urlpatterns = [
    path(
        "logga-in/",
        sso.password_login_gate(
            two_factor_views.PasswordLoginView.as_view(
                template_name="accounts/login.html",
                authentication_form=LoginForm,
                redirect_authenticated_user=True,
            )
        ),
        name="login",
    ),
    # Single sign-on (R25): 404 unless OIDC_* is configured.
    path("logga-in/sso/", sso.sso_start, name="sso_start"),
    path("logga-in/sso/tillbaka/", sso.sso_callback, name="sso_callback"),
    path("logga-in/sso/nekad/", sso.sso_refused_page, name="sso_refused"),
    path("logga-ut/", sso.logout, name="logout"),
    # The second factor of a password sign-in, and the user's own security settings.
    path("logga-in/engangskod/", two_factor_views.code, name="two_factor"),
    path("logga-in/ny-app/", two_factor_views.setup_at_sign_in, name="two_factor_setup"),
    path("sakerhet/", two_factor_views.security, name="security"),
    path("sakerhet/losenord/", two_factor_views.password_change, name="password_change"),
    path("sakerhet/app/", two_factor_views.authenticator, name="authenticator"),
    path("sakerhet/reservkoder/", two_factor_views.recovery_codes, name="recovery_codes"),
    path("organisation/", views.switch_organisation, name="switch_organisation"),
    path("fortsatt-arbeta/", views.keep_alive, name="keep_alive"),
    path("sekretessforbindelse/", views.agreement, name="agreement"),
    path("roller/", views.roles_index, name="roles_index"),
    path("roller/<int:organisation_id>/", views.roles, name="roles"),
    path(
        "roller/anstallning/<int:employment_id>/", views.employment_roles, name="employment_roles"
    ),
]
