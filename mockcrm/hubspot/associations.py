"""Associations between records (v4): the HubSpot-defined type ids and the link store.

Every link is kept in both directions, each side with its own type id (contact→company 279 is
company→contact 280), exactly as v4 reports them from either end.
"""

from __future__ import annotations

import msgspec

# (from type id, to type id, forward type id, inverse type id, label) — HUBSPOT_DEFINED types.
_C, _CO, _D, _T = "0-1", "0-2", "0-3", "0-5"
_TASK, _NOTE, _MEET, _CALL, _EMAIL = "0-27", "0-46", "0-47", "0-48", "0-49"
_DEFINED: tuple[tuple[str, str, int, int, str | None], ...] = (
    (_C, _CO, 279, 280, None), (_C, _CO, 1, 2, "Primary"),
    (_D, _C, 3, 4, None), (_D, _CO, 341, 342, None), (_D, _CO, 5, 6, "Primary"),
    (_C, _T, 15, 16, None), (_T, _CO, 339, 340, None), (_T, _CO, 26, 25, "Primary"), (_D, _T, 27, 28, None),
    (_TASK, _C, 204, 203, None), (_TASK, _CO, 192, 191, None), (_TASK, _D, 216, 215, None),
    (_TASK, _T, 230, 229, None),
    (_NOTE, _C, 202, 201, None), (_NOTE, _CO, 190, 189, None), (_NOTE, _D, 214, 213, None),
    (_NOTE, _T, 228, 227, None),
    (_CALL, _C, 194, 193, None), (_CALL, _CO, 182, 181, None), (_CALL, _D, 206, 205, None),
    (_CALL, _T, 220, 219, None),
    (_EMAIL, _C, 198, 197, None), (_EMAIL, _CO, 186, 185, None), (_EMAIL, _D, 210, 209, None),
    (_EMAIL, _T, 224, 223, None),
    (_MEET, _C, 200, 199, None), (_MEET, _CO, 188, 187, None), (_MEET, _D, 212, 211, None),
    (_MEET, _T, 226, 225, None),
)  # fmt: skip
_FIRST_CUSTOM_TYPE_ID = 1_000


class AssocType(msgspec.Struct, frozen=True):
    type_id: int
    from_type: str
    to_type: str
    inverse: int
    label: str | None
    category: str = "HUBSPOT_DEFINED"


Key = tuple[str, int]  # (object type id, record id)


class AssociationStore:
    def __init__(self) -> None:
        self.types: dict[int, AssocType] = {}
        self._default: dict[tuple[str, str], int] = {}
        self._next_type_id = _FIRST_CUSTOM_TYPE_ID
        for src, dst, fwd, inv, label in _DEFINED:
            self._register(src, dst, fwd, inv, label)
        self.links: dict[Key, dict[Key, set[int]]] = {}

    def _register(self, src: str, dst: str, fwd: int, inv: int, label: str | None) -> None:
        self.types[fwd] = AssocType(fwd, src, dst, inv, label)
        self.types[inv] = AssocType(inv, dst, src, fwd, label)
        if label is None:
            self._default.setdefault((src, dst), fwd)
            self._default.setdefault((dst, src), inv)

    def default_type(self, src: str, dst: str) -> int:
        """The unlabelled type between two object types (custom pairs get one on first use)."""
        found = self._default.get((src, dst))
        if found is None:
            fwd, inv = self._next_type_id, self._next_type_id + 1
            self._next_type_id += 2
            self._register(src, dst, fwd, inv, None)
            found = fwd
        return found

    def valid_type(self, src: str, dst: str, type_id: int) -> bool:
        t = self.types.get(type_id)
        if t is None and (src.startswith("2-") or dst.startswith("2-")):
            return self.default_type(src, dst) == type_id
        return t is not None and t.from_type == src and t.to_type == dst

    def spec(self, type_id: int) -> dict[str, object]:
        t = self.types[type_id]
        return {"category": t.category, "typeId": t.type_id, "label": t.label}

    def add(self, src: Key, dst: Key, type_ids: list[int]) -> None:
        fwd = self.links.setdefault(src, {}).setdefault(dst, set())
        back = self.links.setdefault(dst, {}).setdefault(src, set())
        for type_id in type_ids:
            fwd.add(type_id)
            back.add(self.types[type_id].inverse)

    def remove(self, src: Key, dst: Key, type_ids: list[int] | None = None) -> None:
        """Remove the given types between the pair (all of them when ``type_ids`` is None)."""
        fwd = self.links.get(src, {}).get(dst)
        if fwd is None:
            return
        back = self.links.get(dst, {}).get(src, set())
        for type_id in list(fwd) if type_ids is None else type_ids:
            fwd.discard(type_id)
            if type_id in self.types:
                back.discard(self.types[type_id].inverse)
        if not fwd:
            self.links[src].pop(dst, None)
        if not back:
            self.links.get(dst, {}).pop(src, None)

    def targets(self, src: Key, to_type: str) -> list[tuple[int, list[int]]]:
        """(to record id, type ids) of ``src``'s associations to ``to_type``, by record id."""
        found = [
            (key[1], sorted(types))
            for key, types in self.links.get(src, {}).items()
            if key[0] == to_type and types
        ]
        found.sort()
        return found

    def drop_record(self, type_id: str, rec_id: int) -> None:
        src = (type_id, rec_id)
        for dst in list(self.links.get(src, {})):
            self.links.get(dst, {}).pop(src, None)
        self.links.pop(src, None)
