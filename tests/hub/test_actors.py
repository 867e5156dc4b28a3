"""Who an auth id is: the log's string id only, never the numeric one that repeats per lock."""

from __future__ import annotations

from datetime import UTC, datetime

from nukiasync.hub.actors import ActorDirectory
from nukiasync.web.models.auth import SmartlockAuth
from nukiasync.web.models.log import SmartlockLog

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


async def test_a_numeric_auth_id_never_names_someone() -> None:
    # Two locks, two people, the same device-side authId 7 on each.
    def auth(uid: str, lock: int, name: str) -> SmartlockAuth:
        raw = {"id": uid, "smartlockId": lock, "authId": 7, "name": name, "type": 0}
        return SmartlockAuth.from_api(raw)

    auths = [auth("a" * 24, 1, "Alice"), auth("b" * 24, 2, "Bob")]

    async def load() -> list[SmartlockAuth]:
        return auths

    directory = ActorDirectory(load, clock=lambda: NOW)
    await directory.refresh()
    base = {"smartlockId": 2, "action": 1, "trigger": 0, "state": 0, "date": NOW.isoformat()}
    by_number = SmartlockLog.from_api({**base, "id": "c" * 24, "authId": "7", "name": ""})
    assert (await directory.actor_for(by_number)).name == ""
    by_id = SmartlockLog.from_api({**base, "id": "d" * 24, "authId": "b" * 24, "name": ""})
    assert (await directory.actor_for(by_id)).name == "Bob"
