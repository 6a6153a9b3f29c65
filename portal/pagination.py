"""One way to page a list: 1-based page numbers, a total, a page size."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def page_count(total: int, per_page: int) -> int:
    """At least one page, even for an empty list (the page still renders)."""
    return max(1, -(-total // per_page))


class Pagination:
    """Page arithmetic for any result with `total`, `page` and `per_page`."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class Page(Pagination, Generic[T]):
    items: list[T] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
