"""Two real instances, each with its delivery worker, and a receiver that fails at first:
the notification of a correction made through one arrives once it answers, delivered by
one worker at a time."""

import json
import time
from pathlib import Path

import httpx
import orjson
from alembic import command

from app.auth.tokens import mint_token
from app.platform.schema import alembic_config
from app.platform.settings import get_settings
from app.policy.vocabulary import Role
from tests.notifications.helpers import JUSTIFICATION, SECRET, Receiver, receiving
from tests.servers import child_over_http, free_port, scratch_database, serve, wait_ready


def _headers(role: Role, purpose: str, **extra: str) -> dict[str, str]:
    token = mint_token(get_settings(), role=role, sub=f"{role.value}-instances")
    return {"Authorization": f"Bearer {token}", "X-Purpose": purpose, **extra}


def test_two_instances_deliver_a_notification_once_the_receiver_answers(tmp_path: Path) -> None:
    with (
        receiving(Receiver(failures=2)) as receiver,
        scratch_database(tmp_path, "notify") as url,
    ):
        command.upgrade(alembic_config(url), "head")
        settings = {
            "IEYS_RECIPIENT_ENDPOINTS": json.dumps({"childrens_social_care": receiver.url}),
            "IEYS_RECIPIENT_SECRET_CHILDRENS_SOCIAL_CARE": SECRET,
            "IEYS_NOTIFY_INTERVAL_SECONDS": "0.1",
            "IEYS_NOTIFY_BACKOFF_BASE_SECONDS": "0.2",
        }
        ports = [free_port(), free_port()]
        servers = [serve(url, port, **settings) for port in ports]
        try:
            for port, server in zip(ports, servers, strict=True):
                wait_ready(port, process=server)
            a, b = (f"http://127.0.0.1:{port}" for port in ports)
            hv = _headers(Role.HEALTH_VISITOR, "health_care")
            child = child_over_http(a, hv, family_name="Receiver", days_old=300)
            shared = httpx.post(
                f"{b}/v1/shares",
                json={
                    "subject_id": child["id"],
                    "recipient": "childrens_social_care",
                    "categories": ["identity"],
                },
                headers=_headers(
                    Role.HEALTH_VISITOR, "safeguarding", **{"X-Justification": JUSTIFICATION}
                ),
                timeout=30,
            )
            assert shared.status_code == 201, shared.text
            patched = httpx.patch(
                f"{a}/v1/people/{child['id']}",
                json={"given_name": "John"},
                headers={**hv, "If-Match": '"1"'},
                timeout=30,
            )
            assert patched.status_code == 200, patched.text
            deadline = time.monotonic() + 60
            while 200 not in receiver.answered and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1)  # long enough for a second delivery, were there one
            officer = _headers(Role.DATA_PROTECTION_OFFICER, "subject_rights")
            listed = httpx.get(f"{b}/v1/notifications", headers=officer, timeout=30).json()
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=20)
    assert receiver.answered == [503, 503, 200]
    sent = {orjson.loads(body)["notification_id"] for _, body in receiver.received}
    (notice,) = listed["items"]
    assert sent == {notice["id"]}
    assert notice["status"] == "delivered"
    assert [attempt["http_status"] for attempt in notice["history"]] == [503, 503, 200]
    assert orjson.loads(receiver.received[-1][1])["corrected"]["identity"]["given_name"] == "John"
