"""A real OpenID Connect provider for the single sign-on tests: oidc-provider-mock (Flask and
authlib) served on 127.0.0.1 from a thread, with the app configured against it."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import oidc_provider_mock
import requests
from werkzeug.serving import make_server


@dataclass
class Provider:
    url: str
    client_secrets: dict[str, str] = field(default_factory=dict)

    def endpoint(self, path: str) -> str:
        return f"{self.url}{path}"

    def register_client(self, redirect_uri: str) -> str:
        """Registers the app as a client (RFC 7591) and returns its client id; the provider
        then holds it to this redirect URI and secret."""
        response = requests.post(
            self.endpoint("/oauth2/clients"),
            json={
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_post",
            },
            timeout=5,
        )
        response.raise_for_status()
        client_id: str = response.json()["client_id"]
        self.client_secrets[client_id] = response.json()["client_secret"]
        return client_id

    def set_person(self, sub: str, claims: dict[str, Any]) -> None:
        """The claims the provider vouches for when `sub` signs in."""
        requests.put(self.endpoint(f"/users/{sub}"), json=claims, timeout=5).raise_for_status()


@contextmanager
def running_provider(*, token_max_age: timedelta = timedelta(hours=1)) -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_max_age)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield Provider(url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def sso_settings(provider: Provider, *, client_id: str, client_secret: str) -> dict[str, object]:
    """What OIDC_* in the environment would give settings.py, pointed at `provider`."""
    return {
        "OIDC_ENABLED": True,
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
        "OIDC_OP_ISSUER": provider.url,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": provider.endpoint("/oauth2/authorize"),
        "OIDC_OP_TOKEN_ENDPOINT": provider.endpoint("/oauth2/token"),
        "OIDC_OP_USER_ENDPOINT": provider.endpoint("/userinfo"),
        "OIDC_OP_JWKS_ENDPOINT": provider.endpoint("/jwks"),
        "OIDC_OP_LOGOUT_ENDPOINT": provider.endpoint("/oauth2/end_session"),
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": "openid profile",
        "OIDC_HSA_CLAIM": "employeeHsaId",
        "OIDC_TIMEOUT": 5,
        "OIDC_USE_PKCE": True,
        "OIDC_USE_NONCE": True,
        "OIDC_CREATE_USER": False,
        "OIDC_STORE_ID_TOKEN": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "accounts:sso_callback",
        "AUTHENTICATION_BACKENDS": [
            "django.contrib.auth.backends.ModelBackend",
            "accounts.sso.HsaIdBackend",
        ],
    }
