"""The discussion API's pagination (upstream ``DiscussionAPIPagination``): the core's
page-number pagination in its namespaced form, ``{"results": [...], "pagination":
{"next", "previous", "count", "num_pages"}}`` (10 a page, at most 100); a page past the
end is 404 ``Page not found (No results on this page).`` The views' forms have checked
``page`` and ``page_size`` already."""
from lms import pagination

PAGE_NOT_FOUND = "Page not found (No results on this page)."


def paginate(request, stmt, serialize):
    """One page of an ordered ``select()``, ``serialize(rows)`` turning its rows."""
    return pagination.page_number(request, stmt, serialize, namespaced=True,
                                  invalid_page_body={"developer_message": PAGE_NOT_FOUND})
