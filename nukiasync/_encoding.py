"""Content-Encoding, read the one way every inbound endpoint reads it.

Bridge callbacks and Web API webhooks are small and uncompressed; any coding but identity,
in any header or list item, is refused before a byte is read, so no library version can be
made to inflate a bomb (decision 0001).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def is_identity(content_encoding: str | Iterable[str] | None) -> bool:
    """Whether Content-Encoding means "not compressed", in every header and list item.

    Pass every Content-Encoding header of the request (a sequence), or their values
    joined with commas: ``identity`` followed by ``gzip`` is compressed.
    """
    if content_encoding is None:
        return True
    headers = [content_encoding] if isinstance(content_encoding, str) else list(content_encoding)
    codings = (item.strip().lower() for header in headers for item in header.split(","))
    return all(coding in {"", "identity"} for coding in codings)
