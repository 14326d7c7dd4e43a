"""Console sign-in by OpenID Connect (authorisation code with PKCE) against an identity
provider served by the test: the provider's access token is checked as any bearer token,
and only a data protection officer's starts a session."""

import base64
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest
from fastapi.testclient import TestClient

from app.auth.tokens import mint_token
from app.console import oidc, router
from app.platform.settings import Settings, get_settings
from app.policy.vocabulary import Role


@dataclass
class Provider:
    role: Role = Role.DATA_PROTECTION_OFFICER
    challenges: dict[str, str] = field(default_factory=dict)
    """code -> the PKCE challenge its authorisation request carried."""
    refused: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    found = Provider()

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._json(
                200,
                {
                    "issuer": found.url,
                    "authorization_endpoint": f"{found.url}/authorize",
                    "token_endpoint": f"{found.url}/token",
                },
            )

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            code, verifier = form["code"][0], form.get("code_verifier", [""])[0]
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if found.challenges.get(code) != challenge:
                found.refused.append(code)
                self._json(400, {"error": "invalid_grant"})
                return
            token = mint_token(get_settings(), role=found.role, sub="officer@camden.gov.uk")
            self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings: Settings = get_settings().model_copy(
        update={"oidc_issuer": found.url, "oidc_client_id": "ieys-console"}
    )
    monkeypatch.setattr(oidc, "get_settings", lambda: settings)
    monkeypatch.setattr(router, "get_settings", lambda: settings)
    yield found
    server.shutdown()
    server.server_close()


def _authorise(client: TestClient, provider: Provider, code: str) -> dict[str, str]:
    """The browser's trip to the provider and back: the provider remembers the challenge."""
    started = client.get("/console/oidc/login", follow_redirects=False)
    assert started.status_code == 303
    asked = {k: v[0] for k, v in parse_qs(urlparse(started.headers["location"]).query).items()}
    assert asked["code_challenge_method"] == "S256"
    assert asked["response_type"] == "code"
    provider.challenges[code] = asked["code_challenge"]
    return asked


def test_the_officer_signs_in_with_the_councils_provider(
    browser_client: TestClient, provider: Provider
) -> None:
    asked = _authorise(browser_client, provider, "code-1")
    back = browser_client.get(
        "/console/oidc/callback",
        params={"code": "code-1", "state": asked["state"]},
        follow_redirects=False,
    )
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/console"
    home = browser_client.get("/console")
    assert home.status_code == 200
    assert "officer@camden.gov.uk" in home.text


def test_a_callback_whose_state_does_not_match_is_refused(
    browser_client: TestClient, provider: Provider
) -> None:
    _authorise(browser_client, provider, "code-2")
    back = browser_client.get(
        "/console/oidc/callback", params={"code": "code-2", "state": "forged"}
    )
    assert back.status_code == 401
    assert browser_client.get("/console", follow_redirects=False).status_code == 303


def test_a_code_exchanged_without_its_pkce_verifier_is_refused(
    browser_client: TestClient, provider: Provider
) -> None:
    asked = _authorise(browser_client, provider, "code-3")
    provider.challenges["code-3"] = "another-challenge"
    back = browser_client.get(
        "/console/oidc/callback", params={"code": "code-3", "state": asked["state"]}
    )
    assert back.status_code == 401
    assert provider.refused == ["code-3"]


def test_a_provider_token_for_another_role_is_refused_by_the_guard_on_every_page(
    browser_client: TestClient, provider: Provider
) -> None:
    provider.role = Role.HEALTH_VISITOR
    asked = _authorise(browser_client, provider, "code-4")
    back = browser_client.get(
        "/console/oidc/callback",
        params={"code": "code-4", "state": asked["state"]},
        follow_redirects=False,
    )
    assert back.status_code == 303
    for path in ("/console", "/console/requests", "/console/retention", "/console/audit"):
        refused = browser_client.get(path)
        assert refused.status_code == 403, path
        assert "purpose_not_permitted" in refused.text


def test_the_sign_in_page_offers_the_councils_provider_once_configured(
    browser_client: TestClient, provider: Provider
) -> None:
    page = browser_client.get("/console/sign-in")
    assert "Sign in with your council account" in page.text
