"""Error answers as Nuki's cloud gives them, and the scripted faults of the simulated Web API.

Nuki's API answers errors with Restlet's JSON status (``code``, ``description``, ``homeRef``,
``reasonPhrase``, ``uri``), as a real 422 on Nuki's forum shows; its gateway answers 502/504
with nginx HTML pages. Clients must survive both, and a 429 with or without ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from nukiasync.simulator.knobs import WebFault

_RFC = {
    400: "rfc7231#section-6.5.1",
    401: "rfc7235#section-3.1",
    403: "rfc7231#section-6.5.3",
    404: "rfc7231#section-6.5.4",
    405: "rfc7231#section-6.5.5",
    409: "rfc7231#section-6.5.8",
    422: "rfc4918#section-11.2",
    423: "rfc4918#section-11.3",
    429: "rfc6585#section-4",
    500: "rfc7231#section-6.6.1",
    502: "rfc7231#section-6.6.3",
    503: "rfc7231#section-6.6.4",
    504: "rfc7231#section-6.6.5",
}
_DESCRIPTIONS = {
    401: "The request requires user authentication",
    403: "The server understood the request, but is refusing to fulfill it",
    404: "The server has not found anything matching the request URI",
    405: "The method specified in the request is not allowed for the resource",
    429: "Too many requests",
    500: "The server encountered an unexpected condition",
    503: "The server is currently unable to handle the request",
}


def restlet_error(status: int, description: str | None = None) -> web.Response:
    """A JSON error body in the Restlet shape Nuki's API uses."""
    reason = HTTPStatus(status).phrase
    body = {
        "code": status,
        "description": description or _DESCRIPTIONS.get(status, reason),
        "homeRef": "/",
        "reasonPhrase": reason,
        "uri": f"https://tools.ietf.org/html/{_RFC.get(status, 'rfc7231')}",
    }
    return web.json_response(body, status=status)


def html_error(status: int) -> web.Response:
    """An nginx gateway error page, as reported from Nuki's API during outages."""
    title = f"{status} {HTTPStatus(status).phrase}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return web.Response(status=status, text=page, content_type="text/html")


def bad_parameter(name: str, value: str) -> web.Response:
    """The 400 Nuki gives for an unparsable query value."""
    return restlet_error(400, f"The supplied value '{value}' for parameter '{name}' is not valid")


async def fault_response(fault: WebFault, *, closing: asyncio.Event, hang: float) -> web.Response:
    """Answer a request with a scripted fault."""
    if fault.hang:
        try:
            async with asyncio.timeout(hang):
                await closing.wait()
        except TimeoutError:
            pass
        return html_error(504)
    response = html_error(fault.status) if fault.html else restlet_error(fault.status)
    if isinstance(fault.retry_after, datetime):
        response.headers["Retry-After"] = format_datetime(
            fault.retry_after.astimezone(UTC), usegmt=True
        )
    elif fault.retry_after is not None:
        response.headers["Retry-After"] = str(round(fault.retry_after))
    return response
