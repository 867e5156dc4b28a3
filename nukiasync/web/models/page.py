"""One page of a paginated Web API list (``PaginatedResponse``): the items and where they sit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from nukiasync._parse import optional_int, parse_list
from nukiasync.web.models._common import optional_str

_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class Page(Generic[_T]):
    """A page of ``results`` plus the ``pagination`` block; pages count from 0.

    ``next_page``/``prev_page`` are whatever Nuki sends there (a page number or a link, as a
    string); `has_next` relies on the numbers instead, which the spec does define.
    """

    results: list[_T] = attrs.field(factory=list)
    total_items: int | None = None
    total_pages: int | None = None
    current_page: int | None = None
    next_page: str | None = None
    prev_page: str | None = None
    page_size: int | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def has_next(self) -> bool:
        """Whether a page after this one exists."""
        if self.total_pages is not None and self.current_page is not None:
            return self.current_page + 1 < self.total_pages
        return self.next_page is not None

    @classmethod
    def from_api(
        cls, data: object, parser: Callable[[Mapping[str, Any]], _T], what: str
    ) -> Page[_T]:
        """Build from a ``PaginatedResponse`` object, parsing each result with ``parser``.

        A result that cannot be parsed is skipped with a WARNING, as in every list; a null
        or missing ``results`` is an empty page, as a null optional list is everywhere.
        """
        if not isinstance(data, Mapping):
            msg = f"expected a page object, got {type(data).__name__}"
            raise TypeError(msg)
        pagination = data.get("pagination")
        if not isinstance(pagination, Mapping):
            pagination = {}
        return cls(
            results=parse_list(_or_empty(data.get("results")), parser, what),
            total_items=optional_int(pagination.get("totalItems")),
            total_pages=optional_int(pagination.get("totalPages")),
            current_page=optional_int(pagination.get("currentPage")),
            next_page=optional_str(pagination.get("nextPage")),
            prev_page=optional_str(pagination.get("prevPage")),
            page_size=optional_int(pagination.get("pageSize")),
            raw=dict(data),
        )


def _or_empty(value: object) -> object:
    return [] if value is None else value
