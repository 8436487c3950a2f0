"""Response models of the HTTP API: what each route returns today, field for field, one module
per router (`common` holds the base and what several share).

They document the bodies in /openapi.json and guard them: a body with a key its model does not
declare is refused (extra="forbid"), so a field added to a view without its model fails loudly
in the tests instead of being dropped silently by FastAPI's response filtering. Dates the views
already turned into ISO text are `str`; dates and datetimes still as objects are `date` and
`datetime` (pydantic writes them exactly as the untyped bodies did). Where a body is open-ended
(a tally document, a vote the law requires next, a voter list row, an audit entry's before and
after), the field is `dict[str, Any]`.
"""
