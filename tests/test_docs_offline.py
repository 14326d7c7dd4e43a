"""/docs and /redoc work on a network without internet access: every script, style
sheet, font and icon they load is served by the service itself."""

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(["']?([^"')]+)""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assets = [a or b for a, b in ASSET.findall(html)]
    assert assets, html
    assert "cdn.jsdelivr.net" not in html
    assert "fonts.googleapis.com" not in html
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset
