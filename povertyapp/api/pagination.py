"""The API's pages: numbered, with a count that stops at `LIST_COUNT_CAP` (a name search's at
`SEARCH_COUNT_CAP`).

A list of a province-wide user spans millions of rows; counting all of them for every page costs
more than the page (issue 19). The count reads at most `LIST_COUNT_CAP` + 1 rows
(`SELECT COUNT(*) FROM (… LIMIT cap + 1)`): up to the cap it is exact, past it the answer says
`count` = the cap with `count_capped` true, and the pages end at the cap (narrow the filter to
reach the rest), as the household list's pages do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class CappedPaginator(Paginator):
    """Django's paginator whose count stops at the cap (`capped` says whether it did):
    `LIST_COUNT_CAP`, or the `cap` given.

    `count_rows(limit)`, when given, counts at most `limit` rows of the list in a way of its
    own (a name search counted from its matching members, up to `SEARCH_COUNT_CAP`:
    households.selectors); a view sets both with `paginator.django_paginator_class =
    partial(CappedPaginator, count_rows=..., cap=...)`."""

    def __init__(
        self,
        *args: Any,
        count_rows: Callable[[int], int] | None = None,
        cap: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.count_rows = count_rows
        self.cap = settings.LIST_COUNT_CAP if cap is None else cap

    @cached_property
    def capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def _counted(self) -> int:
        # Django counts a sliced queryset as COUNT(*) over the LIMITed subquery.
        limit = self.cap + 1
        if self.count_rows is not None:
            return min(self.count_rows(limit), limit)
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return int(object_list[:limit].count())
        return min(len(object_list), limit)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_capped": isinstance(paginator, CappedPaginator) and paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["required"] = [*response.get("required", []), "count_capped"]
        response["properties"] = {
            "count": response["properties"]["count"],
            "count_capped": {
                "type": "boolean",
                "description": "true when more rows match than the cap (LIST_COUNT_CAP; "
                "SEARCH_COUNT_CAP for a name search): count is the cap and the pages end "
                "there; narrow the filter",
            },
            **{k: v for k, v in response["properties"].items() if k != "count"},
        }
        return response
