"""``POST /crm/v3/objects/{objectType}/search``: filter groups, one sort, ``after`` paging, caps.

A search filtered by a range on the last-modified property (the incremental-sync query) walks the
store's sorted last-modified index instead of every record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from aiohttp import web

from mockcrm.hubspot.bodies import Filter, SearchRequest, decode
from mockcrm.hubspot.context import HubSpotMock, mock_of
from mockcrm.hubspot.errors import json_response, validation
from mockcrm.hubspot.filters import Test, compile_filter, getter, kind_of
from mockcrm.hubspot.objects import object_type
from mockcrm.hubspot.render import record_json
from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.hubspot.store import ObjectStore, Record
from mockcrm.hubspot.values import as_string, compare_key, parse_id

MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 6, 18
PAGE_MAX = 200
RESULT_CAP = 10_000
_RANGE_OPS = frozenset({"EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"})


def _index_window(otype: ObjectTypeDef, filters: list[Filter]) -> tuple[int, int] | None:
    """[lo, hi] ms bounds from range filters on the last-modified property, if there are any."""
    lo, hi, found = -(1 << 62), 1 << 62, False
    for f in filters:
        op = f.operator.upper()
        if f.property_name != otype.modified_prop or op not in _RANGE_OPS:
            continue
        a = compare_key("datetime", as_string(f.value))
        b = compare_key("datetime", as_string(f.high_value)) if op == "BETWEEN" else a
        if not isinstance(a, float) or not isinstance(b, float):
            continue
        found = True
        if op in ("EQ", "GTE", "BETWEEN"):
            lo = max(lo, math.ceil(a))
        if op == "GT":
            lo = max(lo, math.floor(a) + 1)
        if op in ("EQ", "LTE", "BETWEEN"):
            hi = min(hi, math.floor(b))
        if op == "LT":
            hi = min(hi, math.ceil(a) - 1)
    return (lo, hi) if found else None


def _sort_spec(body: SearchRequest) -> tuple[str, bool] | None:
    if not body.sorts:
        return None
    first = body.sorts[0]
    if isinstance(first, str):
        return first.lstrip("-"), first.startswith("-")
    return first.property_name, first.direction.upper().startswith("DESC")


def find_page(
    mock: HubSpotMock, otype: ObjectTypeDef, body: SearchRequest, offset: int
) -> tuple[list[Record], int]:
    """The page's records (from ``offset``, at most ``body.limit``, never past the result cap) and
    the total number of matches."""
    groups = [g.filters for g in body.filter_groups if g.filters]
    if len(groups) > MAX_GROUPS or any(len(g) > MAX_PER_GROUP for g in groups):
        raise validation(f"Too many filters: at most {MAX_GROUPS} groups of {MAX_PER_GROUP} filters")
    if sum(len(g) for g in groups) > MAX_FILTERS:
        raise validation(f"Too many filters: at most {MAX_FILTERS} filters in all")
    compiled = [[compile_filter(mock, otype, f) for f in g] for g in groups]  # validates every filter
    sort = _sort_spec(body)
    window = _index_window(otype, groups[0]) if len(groups) == 1 else None
    if not groups:
        window = (-(1 << 62), 1 << 62)  # everything: "the most recently modified record" and alike
    cut = visible_until(mock)
    keyset = _keyset_groups(otype, groups) if len(groups) > 1 else None
    if keyset is not None and sort is not None and sort[0] == otype.modified_prop and not body.query:
        return _keyset_page(mock.portal.stores[otype.name], keyset, cut, offset, body.limit, sort[1])
    if (
        window is not None
        and sort is not None
        and sort[0] == otype.modified_prop
        and not body.query
        and all(
            f.property_name == otype.modified_prop and f.operator.upper() in _RANGE_OPS
            for g in groups
            for f in g
        )
    ):
        # The incremental-sync query: every entry in the window matches and the index is the
        # order, so the page and the total come from positions alone.
        store = mock.portal.stores[otype.name]
        start, stop = store.modified.bounds(window[0], window[1] if cut is None else min(window[1], cut))
        total = stop - start
        end = min(offset + body.limit, RESULT_CAP, total)
        if sort[1]:
            entries = store.modified.entries(stop - end, stop - offset, reverse=True)
        else:
            entries = store.modified.entries(start + offset, start + end)
        return [store.records[rec_id] for _, rec_id in entries], total
    matches = find(mock, otype, body, groups, compiled, sort, cut)
    end = min(offset + body.limit, RESULT_CAP, len(matches))
    return matches[offset:end], len(matches)


Keyset = list[tuple[tuple[int, int], frozenset[int]]]


def _keyset_groups(otype: ObjectTypeDef, groups: list[list[Filter]]) -> Keyset | None:
    """Each group as (its window on the last-modified property, the ids it excludes), when every
    group is only that: the keyset-paging query "after (ms, these ids)", ``(lm > t) OR (lm = t AND
    hs_object_id NOT_IN seen)``. None for any other shape (the general path answers those)."""
    out: Keyset = []
    for g in groups:
        excluded: set[int] = set()
        ranges: list[Filter] = []
        for f in g:
            op = f.operator.upper()
            if f.property_name == otype.modified_prop and op in _RANGE_OPS:
                ranges.append(f)
            elif f.property_name == "hs_object_id" and op == "NOT_IN":
                ids = (parse_id(as_string(v).strip()) for v in f.values)
                excluded.update(i for i in ids if i is not None)
            else:
                return None
        window = _index_window(otype, ranges)
        if window is None:
            return None
        out.append((window, frozenset(excluded)))
    return out


def _keyset_page(
    store: ObjectStore, groups: Keyset, cut: int | None, offset: int, limit: int, descending: bool
) -> tuple[list[Record], int]:
    """A page of a keyset query from the modified index: the windows' positions give the total, less
    the excluded records that no other group takes; the page walks the windows skipping those."""
    hi_cap = (1 << 62) if cut is None else cut
    merged: list[list[int]] = []
    for lo, hi in sorted((lo, min(hi, hi_cap)) for (lo, hi), _ in groups):
        if lo > hi:
            continue
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])

    def matches(ms: int, rec_id: int) -> bool:
        return any(lo <= ms <= min(hi, hi_cap) and rec_id not in ex for (lo, hi), ex in groups)

    spans = [store.modified.bounds(lo, hi) for lo, hi in merged]
    dropped = 0
    for rec_id in set().union(*(ex for _, ex in groups)):
        rec = store.get_live(rec_id)
        if rec is not None and any(lo <= rec.updated_ms <= hi for lo, hi in merged):
            dropped += not matches(rec.updated_ms, rec_id)
    total = sum(stop - start for start, stop in spans) - dropped
    page: list[Record] = []
    skip = offset
    for start, stop in reversed(spans) if descending else spans:
        for ms, rec_id in store.modified.entries(start, stop, reverse=descending):
            if not matches(ms, rec_id):
                continue
            if skip:
                skip -= 1
                continue
            if len(page) == limit or offset + len(page) >= RESULT_CAP:
                return page, total
            page.append(store.records[rec_id])
    return page, total


def find(
    mock: HubSpotMock,
    otype: ObjectTypeDef,
    body: SearchRequest,
    groups: list[list[Filter]],
    compiled: list[list[Test]],
    sort: tuple[str, bool] | None,
    cut: int | None,
) -> list[Record]:
    """Every match, in result order (the general path: filter, then sort)."""
    store = mock.portal.stores[otype.name]
    window = _index_window(otype, groups[0]) if len(groups) == 1 else None
    candidates: Iterable[Record]
    ordered = False
    direct = _direct_candidates(store, groups[0]) if len(groups) == 1 else None
    if direct is not None:  # EQ/IN on a unique property or the id: look the records up
        candidates = direct
        ordered = sort is None
    elif window is not None:
        by_modified = sort is not None and sort[0] == otype.modified_prop
        descending = by_modified and sort is not None and sort[1]
        candidates = store.modified.scan(store.records, window[0], window[1], reverse=descending)
        ordered = by_modified
    else:
        candidates = store.all_live()
        ordered = sort is None  # insertion order is creation order, HubSpot's default
    text = (body.query or "").strip().lower()
    matches = [
        r
        for r in candidates
        if (not compiled or any(all(t(r) for t in g) for g in compiled))
        and (not text or _text_hit(otype, r, text))
        and (cut is None or r.updated_ms <= cut)
    ]
    if not ordered:
        matches = _sorted(mock, otype, matches, sort)
    return matches


def visible_until(mock: HubSpotMock) -> int | None:
    """With a search lag rule, records changed in the last ``search_lag_ms`` are not yet indexed.

    Real search is eventually consistent; this is its crude form (a recent change hides the record
    rather than showing its previous version), enough to test a change stream's look-back.
    """
    lag = mock.rules.search_lag_ms
    return mock.clock.now_ms() - lag if lag > 0 else None


def _direct_candidates(store: ObjectStore, filters: list[Filter]) -> list[Record] | None:
    """The records an EQ/IN filter on a unique property (or ``hs_object_id``) can match, by id;
    None when no filter of the group allows a lookup."""
    for f in filters:
        op, name = f.operator.upper(), f.property_name
        if op not in ("EQ", "IN") or (name not in store.unique and name != "hs_object_id"):
            continue
        found: dict[int, Record] = {}
        for raw in f.values if op == "IN" else [f.value]:
            key = as_string(raw).strip()
            if name == "hs_object_id":
                rec_id = parse_id(key)
                rec = store.get_live(rec_id) if rec_id is not None else None
            else:
                rec = store.by_unique(name, key)
            if rec is not None:
                found[rec.id] = rec
        return [found[k] for k in sorted(found)]
    return None


def _text_hit(otype: ObjectTypeDef, rec: Record, text: str) -> bool:
    for name in (*otype.default_props, otype.primary_display_property, "phone", "company", "domain"):
        value = rec.props.get(name)
        if value and text in value.lower():
            return True
    return False


def _sorted(
    mock: HubSpotMock, otype: ObjectTypeDef, recs: list[Record], sort: tuple[str, bool] | None
) -> list[Record]:
    if sort is None:
        return sorted(recs, key=lambda r: r.id)
    name, descending = sort
    get = getter(otype, name, kind_of(mock, otype, name))
    keyed = [(get(r), r) for r in recs]
    present = [(k, r.id, r) for k, r in keyed if k is not None]
    present.sort(key=lambda t: (t[0], t[1]), reverse=descending)
    return [t[2] for t in present] + [r for k, r in keyed if k is None]


async def search(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), SearchRequest)
    if not 0 <= body.limit <= PAGE_MAX:
        raise validation(f"limit must be between 0 and {PAGE_MAX}, got {body.limit}")
    after_text = "" if body.after is None else str(body.after).strip()
    offset = parse_id(after_text) if after_text else 0
    if offset is None:
        raise validation(f"Invalid after value: {after_text!r}; it must be an integer")
    if offset >= RESULT_CAP:
        raise validation(
            f"Search results are limited to {RESULT_CAP} records; "
            "narrow the filters instead of paging further"
        )
    page, total = find_page(mock, otype, body, offset)
    end = offset + len(page)
    known = mock.portal.schema.props[otype.name]
    requested = body.properties or None
    results = [record_json(otype, r, requested, known=known) for r in page]
    out: dict[str, object] = {"total": total, "results": results}
    if end < total and body.limit > 0:
        out["paging"] = {"next": {"after": str(end)}}
    return json_response(out)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/crm/v3/objects/{objectType}/search", search)
