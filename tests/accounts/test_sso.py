"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock on 127.0.0.1).

Each test walks the whole authorization code flow: the app's start URL, the provider's
authorization form (posted with requests, as a browser would), the callback with the code."""

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.sso import HsaIdBackend
from audit.models import AccessLog
from tests.sso_provider import Provider, running_provider, sso_settings
from tests.test_settings import run_python

CALLBACK = "http://testserver/konto/logga-in/sso/tillbaka/"
ANNA_HSA = "SE2321000016-T9001"


@pytest.fixture(scope="module")
def provider():
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def client_id(provider: Provider) -> str:
    return provider.register_client(CALLBACK)


@pytest.fixture
def sso(settings, provider: Provider, client_id: str) -> Provider:
    for name, value in sso_settings(
        provider, client_id=client_id, client_secret=provider.client_secrets[client_id]
    ).items():
        setattr(settings, name, value)
    return provider


@pytest.fixture
def anna(world, sso):
    """The Karlstad nurse, known to the catalogue by her HSA id, and to the provider."""
    user = world.nurse.user
    user.hsa_id = ANNA_HSA
    user.save(update_fields=["hsa_id"])
    sso.set_person("anna-siths", {"employeeHsaId": ANNA_HSA, "name": "Anna Test"})
    return user


def provider_redirect(client: Client, next_url: str = "") -> str:
    """Starts single sign-on in the app; returns the provider's authorization URL."""
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    response = client.get(reverse("accounts:sso_start") + query)
    assert response.status_code == 302
    return response["Location"]


def authorize(authorization_url: str, sub: str) -> tuple[str, dict[str, str]]:
    """Signs `sub` in at the provider's form; returns the callback path and its parameters."""
    answer = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return back.path, {k: v[0] for k, v in parse_qs(back.query).items()}


def with_param(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | params
    return urlunsplit(parts._replace(query=urlencode(query)))


def sign_in(client: Client, sub: str, next_url: str = ""):
    path, params = authorize(provider_redirect(client, next_url), sub)
    return client.get(path, params)


def refusals() -> list[str]:
    return list(
        AccessLog.objects.filter(action=AccessLog.Action.SSO_REFUSED).values_list(
            "detail", flat=True
        )
    )


def assert_refused(response, reason: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:sso_refused") + f"?skal={reason}"


def assert_no_session(client: Client) -> None:
    assert "_auth_user_id" not in client.session
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOGIN).exists()
    # Logged once, as a refused single sign-on, not also as a wrong password for no username.
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).exists()


# Signing in


def test_a_known_hsa_id_signs_in_and_lands_on_the_home_page(client, anna):
    authorization_url = provider_redirect(client)
    sent = parse_qs(urlsplit(authorization_url).query)
    # The code flow with PKCE (S256) and a nonce.
    assert sent["response_type"] == ["code"]
    assert sent["code_challenge_method"] == ["S256"]
    assert len(sent["code_challenge"][0]) >= 43
    assert sent["nonce"][0]

    path, params = authorize(authorization_url, "anna-siths")
    assert path == reverse("accounts:sso_callback")
    response = client.get(path, params)

    assert response.status_code == 302
    assert response["Location"] == reverse("messenger:home")
    assert client.session["_auth_user_id"] == str(anna.pk)
    assert client.session["auth_method"] == "oidc"
    assert client.session["_auth_user_backend"] == "accounts.sso.HsaIdBackend"
    # Through django.contrib.auth.login(): the sign-in is in the access log as any other.
    assert AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN, user_id_snapshot=anna.pk
    ).exists()
    home = client.get(reverse("messenger:home"))
    assert home.status_code == 200
    assert "Karlstads kommun HSL (FBL)" in home.content.decode()


def test_someone_already_signed_in_is_not_sent_to_the_provider(anna):
    client = Client()
    client.force_login(anna)
    response = client.get(reverse("accounts:sso_start"))
    assert response["Location"] == reverse("messenger:home")


def test_it_goes_on_to_the_page_asked_for_before_signing_in(client, anna, world):
    wanted = reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])
    response = sign_in(client, "anna-siths", next_url=wanted)
    assert response["Location"] == wanted


def test_it_never_goes_on_to_another_site(client, anna):
    response = sign_in(client, "anna-siths", next_url="https://evil.example/")
    assert response["Location"] == reverse("messenger:home")


def test_a_person_who_has_not_accepted_the_agreement_is_asked_to_first(client, anna):
    anna.agreement_acceptances.all().delete()
    response = sign_in(client, "anna-siths")
    assert response["Location"] == reverse("messenger:home")
    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("accounts:agreement"))


def test_the_person_is_matched_by_hsa_id_never_by_e_mail_or_name(client, anna, world, sso):
    # The provider names Anna's e-mail and name, but another HSA id.
    sso.set_person(
        "someone",
        {
            "employeeHsaId": "SE2321000016-T9999",
            "email": anna.email,
            "name": anna.get_full_name(),
            "preferred_username": anna.username,
        },
    )
    response = sign_in(client, "someone")
    assert_refused(response, "okand")
    assert_no_session(client)


# Refused people


def test_an_hsa_id_the_catalogue_does_not_know_is_refused_logged_and_gets_no_session(
    client, anna, sso
):
    sso.set_person("stranger", {"employeeHsaId": "SE2321000016-T4242", "name": "Okänd Person"})
    response = sign_in(client, "stranger")

    assert_refused(response, "okand")
    assert_no_session(client)
    assert refusals() == ["HSA-id SE2321000016-T4242: okänt i katalogen"]
    # No name, no e-mail in the log.
    assert "Okänd" not in AccessLog.objects.get(action=AccessLog.Action.SSO_REFUSED).detail
    page = client.get(response["Location"])
    assert page.status_code == 403
    body = page.content.decode()
    assert "Du finns inte som aktiv användare i Funktionsbrevlådan" in body
    assert "superanvändare" in body
    assert "IT-servicedesk" in body


def test_a_deactivated_person_is_refused(client, anna):
    anna.is_active = False
    anna.save(update_fields=["is_active"])
    assert_refused(sign_in(client, "anna-siths"), "okand")
    assert_no_session(client)
    assert refusals() == [f"HSA-id {ANNA_HSA}: personen är inaktiverad"]


def test_a_person_whose_every_employment_has_ended_is_refused(client, anna):
    anna.employments.update(ended_at=timezone.now())
    assert_refused(sign_in(client, "anna-siths"), "okand")
    assert_no_session(client)
    assert refusals() == [f"HSA-id {ANNA_HSA}: ingen pågående anställning"]


def test_a_token_without_the_hsa_claim_is_refused(client, anna, sso):
    sso.set_person("no-hsa", {"name": "Anna Test", "email": anna.email})
    response = sign_in(client, "no-hsa")
    assert_refused(response, "hsa-id")
    assert_no_session(client)
    assert refusals() == ["inget HSA-id i claim employeeHsaId"]
    assert "inget giltigt HSA-id" in client.get(response["Location"]).content.decode()


def test_the_hsa_id_is_read_from_the_configured_claim(client, anna, sso, settings):
    settings.OIDC_HSA_CLAIM = "hsaId"
    sso.set_person("other-claim", {"hsaId": ANNA_HSA})
    response = sign_in(client, "other-claim")
    assert response["Location"] == reverse("messenger:home")
    assert client.session["_auth_user_id"] == str(anna.pk)


# Bad input at the callback


def test_a_forged_state_is_refused(client, anna):
    path, params = authorize(provider_redirect(client), "anna-siths")
    response = client.get(path, {**params, "state": "forged-state"})
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["okänd state"]


def test_a_callback_no_sign_in_started_is_refused(client, anna):
    path, params = authorize(provider_redirect(Client()), "anna-siths")
    # Another browser's code and state, brought to this one (login CSRF).
    response = client.get(path, params)
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["ingen påbörjad inloggning i sessionen"]


def test_a_forged_nonce_is_refused(client, anna):
    authorization_url = with_param(provider_redirect(client), nonce="attackers-nonce")
    path, params = authorize(authorization_url, "anna-siths")
    response = client.get(path, params)
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["nonce stämmer inte med inloggningens"]


def test_a_reused_code_is_refused(client, anna):
    path, params = authorize(provider_redirect(client), "anna-siths")
    assert client.get(path, params)["Location"] == reverse("messenger:home")

    # Someone who caught the code tries it with a sign-in of their own.
    other = Client()
    _, their_params = authorize(provider_redirect(other), "anna-siths")
    response = other.get(path, {**their_params, "code": params["code"]})
    assert_refused(response, "fel")
    assert "_auth_user_id" not in other.session
    assert refusals() == ["identitetsleverantören svarade HTTP 400 invalid_grant"]


def test_a_replayed_callback_is_refused_and_ends_the_session(client, anna):
    path, params = authorize(provider_redirect(client), "anna-siths")
    assert client.get(path, params)["Location"] == reverse("messenger:home")
    # The state was used up by the first visit.
    response = client.get(path, params)
    assert_refused(response, "fel")
    assert "_auth_user_id" not in client.session
    assert refusals() == ["okänd state"]


def test_a_code_issued_to_another_client_is_refused(client, anna):
    authorization_url = with_param(provider_redirect(client), client_id="another-app")
    path, params = authorize(authorization_url, "anna-siths")
    response = client.get(path, params)
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["identitetsleverantören svarade HTTP 400 invalid_grant"]


def test_an_id_token_for_another_audience_is_refused(client, anna, monkeypatch):
    # The provider hands out a genuine id token made for another client: the code was issued
    # to it, and the token request is made in its name.
    real_get_token = HsaIdBackend.get_token
    monkeypatch.setattr(
        HsaIdBackend,
        "get_token",
        lambda self, payload: real_get_token(self, {**payload, "client_id": "another-app"}),
    )
    authorization_url = with_param(provider_redirect(client), client_id="another-app")
    path, params = authorize(authorization_url, "anna-siths")
    response = client.get(path, params)
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["id-token utfärdat för en annan klient (aud)"]


def test_an_id_token_from_another_issuer_is_refused(client, anna, settings):
    settings.OIDC_OP_ISSUER = "https://idp.example.se"
    response = sign_in(client, "anna-siths")
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["id-token från en annan utfärdare (iss)"]


def test_an_expired_id_token_is_refused(client, anna, settings, client_id, provider):
    with running_provider(token_max_age=timedelta(seconds=-60)) as stale:
        stale_id = stale.register_client(CALLBACK)
        for name, value in sso_settings(
            stale, client_id=stale_id, client_secret=stale.client_secrets[stale_id]
        ).items():
            setattr(settings, name, value)
        stale.set_person("anna-siths", {"employeeHsaId": ANNA_HSA})
        response = sign_in(client, "anna-siths")
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["id-token har gått ut"]


def test_an_id_token_without_an_expiry_is_refused(client, anna, monkeypatch):
    # The provider's genuine token, read as if it had come without exp.
    real_payload = OIDCAuthenticationBackend.get_payload_data
    monkeypatch.setattr(
        OIDCAuthenticationBackend,
        "get_payload_data",
        lambda self, token, key: {
            k: v for k, v in real_payload(self, token, key).items() if k != "exp"
        },
    )
    assert_refused(sign_in(client, "anna-siths"), "fel")
    assert_no_session(client)
    assert refusals() == ["id-token saknar giltighetstid (exp)"]


def test_a_denial_at_the_provider_is_refused(client, anna):
    authorization_url = provider_redirect(client)
    answer = requests.post(
        authorization_url, data={"action": "deny"}, allow_redirects=False, timeout=5
    )
    back = urlsplit(answer.headers["Location"])
    response = client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert_refused(response, "fel")
    assert_no_session(client)
    assert refusals() == ["identitetsleverantören svarade access_denied"]


def test_an_unreachable_provider_is_a_refusal_not_a_500(client, anna, settings):
    path, params = authorize(provider_redirect(client), "anna-siths")
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/oauth2/token"
    response = client.get(path, params)
    assert_refused(response, "fel")
    assert refusals() == ["identitetsleverantören gick inte att nå"]


def test_a_password_sign_in_never_calls_the_provider(client, anna, demo_password, monkeypatch):
    def no_calls(*args, **kwargs):
        raise AssertionError("the password sign-in called the identity provider")

    monkeypatch.setattr(HsaIdBackend, "get_token", no_calls)
    response = client.post(
        reverse("accounts:login") + "?code=abc&state=def",
        {"username": anna.username, "password": demo_password},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    assert "auth_method" not in client.session


# Signing out


def test_signing_out_of_an_sso_session_goes_to_the_providers_end_session(client, anna, sso):
    sign_in(client, "anna-siths")
    id_token = client.session["oidc_id_token"]

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == sso.endpoint("/oauth2/end_session")
    params = parse_qs(target.query)
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == ["http://testserver/konto/logga-in/"]
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGOUT).count() == 1
    # The provider takes it and comes back to our login page.
    ended = requests.post(
        sso.endpoint("/oauth2/end_session/confirm"),
        data={"redirect_uri": params["post_logout_redirect_uri"][0]},
        allow_redirects=False,
        timeout=5,
    )
    assert ended.headers["Location"] == "http://testserver/konto/logga-in/"


def test_signing_out_of_a_password_session_stays_in_the_app(client, anna, demo_password):
    client.post(reverse("accounts:login"), {"username": anna.username, "password": demo_password})
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_the_csp_lets_the_logout_form_go_on_to_the_provider(settings, sso):
    # What settings.py adds with OIDC on; Chromium checks form-action on a form's redirects.
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])",
        **sso_environment(sso, settings.OIDC_RP_CLIENT_ID),
    )
    assert result.returncode == 0, result.stderr
    assert sso.url in result.stdout


# The login page and PASSWORD_LOGIN


def test_the_login_page_offers_siths_when_sso_is_on(db, client, sso):
    body = client.get(reverse("accounts:login") + "?next=/brevlador/1/").content.decode()
    assert "Logga in med SITHS-kort" in body
    assert f'href="{reverse("accounts:sso_start")}?next=/brevlador/1/"' in body
    assert 'name="password"' in body


def test_without_sso_there_is_no_siths_button_and_no_sso_urls(client, db):
    body = client.get(reverse("accounts:login")).content.decode()
    assert "SITHS" not in body
    assert client.get(reverse("accounts:sso_start")).status_code == 404
    assert client.get(reverse("accounts:sso_refused")).status_code == 404
    assert (
        client.get(reverse("accounts:sso_callback"), {"code": "x", "state": "y"}).status_code == 404
    )


def test_with_password_login_off_the_form_is_gone_and_a_post_is_refused(
    client, anna, settings, demo_password
):
    settings.PASSWORD_LOGIN = False
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Logga in med SITHS-kort" in page
    assert 'name="password"' not in page

    response = client.post(
        reverse("accounts:login"), {"username": anna.username, "password": demo_password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert_no_session(client)
    assert (
        "Inloggning med lösenord är avstängd"
        in client.get(reverse("accounts:login")).content.decode()
    )


def sso_environment(provider: Provider, client_id: str) -> dict[str, str]:
    return {
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": "hemligt",
        "OIDC_OP_ISSUER": provider.url,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": provider.endpoint("/oauth2/authorize"),
        "OIDC_OP_TOKEN_ENDPOINT": provider.endpoint("/oauth2/token"),
        "OIDC_OP_USER_ENDPOINT": provider.endpoint("/userinfo"),
        "OIDC_OP_JWKS_ENDPOINT": provider.endpoint("/jwks"),
        "OIDC_OP_LOGOUT_ENDPOINT": provider.endpoint("/oauth2/end_session"),
    }


def test_password_login_off_without_sso_stops_start_up():
    result = run_python("import django; django.setup()", PASSWORD_LOGIN="false")
    assert result.returncode != 0
    assert "PASSWORD_LOGIN=false needs single sign-on" in result.stderr


def test_password_login_off_with_sso_leaves_only_the_sso_backend(provider, client_id):
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AUTHENTICATION_BACKENDS)",
        PASSWORD_LOGIN="false",
        **sso_environment(provider, client_id),
    )
    assert result.returncode == 0, result.stderr
    assert "['accounts.sso.HsaIdBackend']" in result.stdout


@pytest.mark.parametrize("missing", ["OIDC_RP_CLIENT_SECRET", "OIDC_OP_TOKEN_ENDPOINT"])
def test_sso_with_a_variable_missing_stops_start_up_and_names_it(provider, client_id, missing):
    environment = sso_environment(provider, client_id)
    environment[missing] = ""  # as a copied .env.example leaves it
    result = run_python("import django; django.setup()", **environment)
    assert result.returncode != 0
    assert f"{missing} must be set when OIDC_RP_CLIENT_ID is" in result.stderr


def test_sso_endpoints_must_be_https_in_production(provider, client_id):
    result = run_python(
        "import django; django.setup()",
        APP_ENV="production",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="fbl.example.se",
        EMAIL_HOST="smtp.example.se",
        SITE_URL="https://fbl.example.se",
        **sso_environment(provider, client_id),
    )
    assert result.returncode != 0
    assert "OIDC_OP_ISSUER must be an https:// address" in result.stderr
