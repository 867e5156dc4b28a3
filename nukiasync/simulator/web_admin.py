"""Authorizations and account users of the simulated Web API (create, read, update, delete).

Writes answer 204 ("accepted") as Nuki's do; with ``Knobs.auth_apply_delay`` they take effect
only later, as on the real, asynchronous cloud. New authorizations are real ways into the
simulated devices: a keypad code created here opens the door when someone types it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from nukiasync.const import AuthType
from nukiasync.simulator.people import Person
from nukiasync.simulator.web_faults import restlet_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.people import AccountUser, Authorization
    from nukiasync.simulator.web_server import SimulatedWebApi

CREATABLE_TYPES = frozenset({AuthType.APP, AuthType.FOB, AuthType.KEYPAD_CODE})
MAX_NAME = 32  # SmartlockAuth.name: "max 32 chars"


def valid_code(code: object) -> bool:
    """Nuki keypad codes: six digits 1-9, not starting with 12."""
    text = str(code)
    return (
        isinstance(code, int) and len(text) == 6 and "0" not in text and not text.startswith("12")
    )


def add_routes(app: web.Application, api: SimulatedWebApi) -> None:
    """Register the authorization and account-user operations."""
    routes = _Admin(api)
    add = app.router.add_route
    add("GET", "/smartlock/auth", routes.list_all)
    add("PUT", "/smartlock/auth", routes.create_many)
    add("POST", "/smartlock/auth", routes.update_many)
    add("DELETE", "/smartlock/auth", routes.delete_many)
    add("GET", r"/smartlock/{smartlockId:\d+}/auth", routes.list_one)
    add("PUT", r"/smartlock/{smartlockId:\d+}/auth", routes.create_one)
    add("GET", r"/smartlock/{smartlockId:\d+}/auth/{id}", routes.get)
    add("POST", r"/smartlock/{smartlockId:\d+}/auth/{id}", routes.update)
    add("DELETE", r"/smartlock/{smartlockId:\d+}/auth/{id}", routes.delete)
    add("GET", "/account/user", routes.users)
    add("PUT", "/account/user", routes.create_user)
    add("GET", r"/account/user/{accountUserId:\d+}", routes.user)
    add("POST", r"/account/user/{accountUserId:\d+}", routes.update_user)
    add("DELETE", r"/account/user/{accountUserId:\d+}", routes.delete_user)


class _BadBodyError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


async def _json(request: web.Request, kind: type) -> Any:
    try:
        body = await request.json()
    except ValueError:
        raise _BadBodyError(400, "The request body is not valid JSON") from None
    if not isinstance(body, kind):
        raise _BadBodyError(400, f"The request body must be a JSON {kind.__name__}")
    return body


class _Admin:
    def __init__(self, api: SimulatedWebApi) -> None:
        self.api = api
        self.world = api.world

    # Authorizations

    async def list_all(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("accountUserId")
        auths = self._filtered(self.world.auths, request.query.get("types"))
        if user:
            wanted = int(user) if user.lstrip("-").isdigit() else 0
            auths = [
                a
                for a in auths
                if (a.account_user_id is None if wanted < 0 else a.account_user_id == wanted)
            ]
        return web.json_response([a.web_json() for a in auths])

    async def list_one(self, request: web.Request) -> web.StreamResponse:
        device = self.api.device(request)
        if device is None:
            return restlet_error(404)
        mine = [a for a in self.world.auths if a.smartlock_id == device.smartlock_id]
        return web.json_response(
            [a.web_json() for a in self._filtered(mine, request.query.get("types"))]
        )

    async def get(self, request: web.Request) -> web.StreamResponse:
        auth = self._auth(request)
        if auth is None:
            return restlet_error(404)
        return web.json_response(auth.web_json())

    async def create_many(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._create(request, many=True))

    async def create_one(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._create(request, many=False))

    async def update_many(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._update_many(request))

    async def update(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._update_one(request))

    async def delete_many(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._delete_many(request))

    async def delete(self, request: web.Request) -> web.StreamResponse:
        auth = self._auth(request)
        if auth is None:
            return restlet_error(404)
        self.api.apply(lambda: self._remove([auth]))
        return web.Response(status=204)

    # Account users

    async def users(self, request: web.Request) -> web.StreamResponse:
        users = list(self.world.account_users.values())
        email = request.query.get("email")
        if email:
            users = [u for u in users if u.email == email]
        offset = int(request.query.get("offset", "0") or 0)
        limit = min(int(request.query.get("limit", "100") or 100), 100)
        return web.json_response([u.web_json() for u in users[offset : offset + limit]])

    async def user(self, request: web.Request) -> web.StreamResponse:
        user = self.world.account_users.get(int(request.match_info["accountUserId"]))
        if user is None:
            return restlet_error(404)
        return web.json_response(user.web_json())

    async def create_user(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._create_user(request))

    async def update_user(self, request: web.Request) -> web.StreamResponse:
        return await self._guard(self._update_user(request))

    async def delete_user(self, request: web.Request) -> web.StreamResponse:
        user = self.world.account_users.pop(int(request.match_info["accountUserId"]), None)
        if user is None:
            return restlet_error(404)
        linked = [a for a in self.world.auths if a.account_user_id == user.account_user_id]
        self.api.apply(lambda: self._remove(linked))
        for person in self.world.people.values():
            if person.account_user is user:
                person.account_user = None
        return web.Response(status=204)

    # Helpers

    async def _guard(self, work: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await work
        except _BadBodyError as err:
            return restlet_error(err.status, err.text)
        return response

    def _filtered(self, auths: Iterable[Authorization], types: str | None) -> list[Authorization]:
        if not types:
            return list(auths)
        wanted = {int(t) for t in types.split(",") if t.strip().isdigit()}
        return [a for a in auths if a.type in wanted]

    def _auth(self, request: web.Request) -> Authorization | None:
        device = self.api.device(request)
        auth_id = request.match_info["id"]
        return next(
            (
                a
                for a in self.world.auths
                if device is not None and a.smartlock_id == device.smartlock_id and a.id == auth_id
            ),
            None,
        )

    def _remove(self, auths: Iterable[Authorization]) -> None:
        for auth in auths:
            if auth in self.world.auths:
                self.world.auths.remove(auth)

    def _holder(self, account_user_id: int | None) -> Person | None:
        if account_user_id is None:
            return None
        user = self.world.account_users.get(account_user_id)
        if user is None:
            raise _BadBodyError(400, f"Unknown accountUserId {account_user_id}")
        for person in self.world.people.values():
            if person.account_user is user:
                return person
        name = (
            user.name if user.name not in self.world.people else f"{user.name} ({account_user_id})"
        )
        person = Person(self.world, name, user)
        self.world.people[name] = person
        return person

    def _check_code(
        self, devices: list[Device], code: object, exclude: Authorization | None = None
    ) -> None:
        if not valid_code(code):
            raise _BadBodyError(400, "A keypad code has six digits 1-9 and does not start with 12")
        ids = {d.smartlock_id for d in devices}
        if any(
            a.code == code and a.smartlock_id in ids and a is not exclude for a in self.world.auths
        ):
            raise _BadBodyError(409, "The keypad code is already in use")

    async def _create(self, request: web.Request, *, many: bool) -> web.StreamResponse:
        body = await _json(request, dict)
        if many:
            ids = body.get("smartlockIds") or []
            devices = [d for d in self.world.devices if d.smartlock_id in ids]
            if not devices or len(devices) != len(set(ids)):
                raise _BadBodyError(400, "smartlockIds must name smartlocks of this account")
        else:
            device = self.api.device(request)
            if device is None:
                return restlet_error(404)
            devices = [device]
        name, remote = body.get("name"), body.get("remoteAllowed")
        if (
            not isinstance(name, str)
            or not 0 < len(name) <= MAX_NAME
            or not isinstance(remote, bool)
        ):
            raise _BadBodyError(400, "name (1-32 characters) and remoteAllowed are required")
        auth_type = body.get("type", AuthType.APP)
        if auth_type not in CREATABLE_TYPES:
            raise _BadBodyError(400, f"type {auth_type} cannot be created")
        code = body.get("code")
        if auth_type == AuthType.KEYPAD_CODE:
            self._check_code(devices, code)
        elif body.get("accountUserId") is None:
            raise _BadBodyError(400, "accountUserId is required unless type is 13")
        holder = self._holder(body.get("accountUserId"))

        def create() -> None:
            for device in devices:
                self.world.grant(
                    holder, device, auth_type, code=code, name=name, remote_allowed=remote
                )

        self.api.apply(create)
        return web.Response(status=204)

    async def _update_one(self, request: web.Request) -> web.StreamResponse:
        auth = self._auth(request)
        if auth is None:
            return restlet_error(404)
        body = await _json(request, dict)
        self.api.apply(self._changer(auth, body))
        return web.Response(status=204)

    async def _update_many(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request, list)
        changes: list[Callable[[], None]] = []
        for item in body:
            auth = next(
                (a for a in self.world.auths if isinstance(item, dict) and a.id == item.get("id")),
                None,
            )
            if auth is None:
                raise _BadBodyError(400, "Every update needs the id of an existing authorization")
            changes.append(self._changer(auth, item))

        def change_all() -> None:
            for change in changes:
                change()

        self.api.apply(change_all)
        return web.Response(status=204)

    def _changer(self, auth: Authorization, body: dict[str, Any]) -> Callable[[], None]:
        name = body.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
            raise _BadBodyError(400, "name (1-32 characters) is required")
        if "code" in body:
            devices = [d for d in self.world.devices if d.smartlock_id == auth.smartlock_id]
            self._check_code(devices, body["code"], exclude=auth)

        def change() -> None:
            auth.name = name
            auth.enabled = bool(body.get("enabled", auth.enabled))
            auth.remote_allowed = bool(body.get("remoteAllowed", auth.remote_allowed))
            auth.code = body.get("code", auth.code)
            auth.updated = self.world.clock.now()

        return change

    async def _delete_many(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request, list)
        doomed = [a for a in self.world.auths if a.id in body]
        self.api.apply(lambda: self._remove(doomed))
        return web.Response(status=204)

    async def _create_user(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request, dict)
        email, name = body.get("email"), body.get("name")
        if not isinstance(email, str) or "@" not in email or not isinstance(name, str) or not name:
            raise _BadBodyError(400, "Invalid E-Mail address or name supplied")
        self._unique(email, None)
        user = self.world.add_account_user(name, email, language=str(body.get("language", "en")))
        return web.json_response(user.web_json())

    async def _update_user(self, request: web.Request) -> web.StreamResponse:
        user = self.world.account_users.get(int(request.match_info["accountUserId"]))
        if user is None:
            return restlet_error(404)
        body = await _json(request, dict)
        email = body.get("email", user.email)
        name = body.get("name", user.name)
        if not isinstance(email, str) or "@" not in email or not isinstance(name, str) or not name:
            raise _BadBodyError(400, "Invalid E-Mail address or name supplied")
        self._unique(email, user)
        user.email, user.name = email, name
        user.language = str(body.get("language", user.language))
        user.updated = self.world.clock.now()
        return web.json_response(user.web_json())

    def _unique(self, email: str, user: AccountUser | None) -> None:
        if any(u.email == email and u is not user for u in self.world.account_users.values()):
            raise _BadBodyError(409, "E-Mail address already exists")
