import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.main import create_app
from app.platform.db import get_session, unit_of_work


@pytest.fixture
def browser_client(session: Session) -> Iterator[TestClient]:
    """The console over HTTPS (its cookies are `Secure`), on the test's transaction."""
    app = create_app()

    def _session() -> Iterator[Session]:
        yield from unit_of_work(session)

    app.dependency_overrides[get_session] = _session
    yield TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    app.dependency_overrides.clear()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def officer(browser_client: TestClient) -> TestClient:
    """Signed in as the development officer."""
    page = browser_client.get("/console/sign-in")
    signed = browser_client.post(
        "/console/sign-in", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert signed.status_code == 303
    return browser_client
