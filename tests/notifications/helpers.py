"""A real HTTP receiver for notifications, and the shares that make them due."""

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.people.models import Person
from app.reference import catalogue

JUSTIFICATION = "Injuries seen at today's home visit; referring to social care"
SECRET = "a-shared-secret-the-receiver-checks-with"
SECRET_REF = "IEYS_RECIPIENT_SECRET_CHILDRENS_SOCIAL_CARE"


@dataclass
class Receiver:
    """An endpoint that answers 503 to its first `failures` posts, then 200."""

    failures: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    url: str = ""

    def answer(self) -> int:
        status = 503 if len(self.answered) < self.failures else 200
        self.answered.append(status)
        return status


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.received.append((dict(self.headers.items()), body))
            self.send_response(receiver.answer())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/art19"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def endpoint_for(monkeypatch: pytest.MonkeyPatch, code: str, url: str | None) -> None:
    """The recipient's reference data names `url` as where it takes notifications."""
    recipients = dict(catalogue.recipients())
    recipients[code] = dataclasses.replace(
        recipients[code], notification_url=url, signing_secret_ref=SECRET_REF
    )
    monkeypatch.setattr(catalogue, "recipients", lambda: recipients)
    monkeypatch.setenv(SECRET_REF, SECRET)


def share(
    client: TestClient,
    headers: Any,
    subject: Person,
    *categories: str,
    recipient: str = "childrens_social_care",
) -> dict[str, Any]:
    response = client.post(
        "/v1/shares",
        json={
            "subject_id": str(subject.id),
            "recipient": recipient,
            "categories": list(categories),
        },
        headers=headers("health_visitor", "safeguarding", justification=JUSTIFICATION),
    )
    assert response.status_code == 201, response.text
    shared: dict[str, Any] = response.json()
    return shared
