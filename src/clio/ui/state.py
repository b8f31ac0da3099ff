"""What the editorial UI says about one object: its badges, its schedule
and which transitions make sense now.

Worked out from the object's versions alone, with the rules of
:mod:`clio.workflow`, so that a button is greyed out *before* the user
tries something the engine would refuse (the engine still has the last
word: the views show its error if it refuses anyway, say after a race).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from clio import status as st

#: Transitions the UI offers, in button order, with the permission each
#: needs (as the JSON API: publishing and expiring need ``clio.publish``).
TRANSITIONS = {
    "publish": "clio.publish",
    "revert": "clio.edit",
    "discard": "clio.edit",
    "delete": "clio.edit",
    "expire": "clio.publish",
}

#: What each transition does, for the button's title and the confirmation.
EXPLAIN = {
    "publish": "Make the pending version public",
    "revert": "Throw the pending changes away, keeping the pending version",
    "discard": "Throw the pending version away",
    "delete": "Ask for this object to be deleted (publish to confirm)",
    "expire": "Take the published version off the site, leaving no replacement",
}

PENDING_NAMES = {
    st.NEW: ("new", "new"),
    st.EDITABLE: ("pending edit", "pending"),
    st.UPDATABLE: ("pending update", "pending"),
    st.DELETED: ("pending deletion", "deletion"),
    st.DELETED_EDITABLE: ("pending deletion", "deletion"),
    st.DELETED_UPDATABLE: ("pending deletion", "deletion"),
}


@dataclass(frozen=True)
class Badge:
    text: str
    kind: str  # CSS modifier: new, pending, deletion, published, scheduled, gone


@dataclass
class ObjectState:
    """The state of one object (``versions`` oldest first, all of them)."""

    versions: list
    now: datetime
    handle: object = None
    live: object = None
    pending: object = None
    starts: list = field(default_factory=list)  # (moment, version) going live later
    ends: list = field(default_factory=list)  # (moment, version) ending later

    @classmethod
    def of(cls, versions: list, now: datetime) -> "ObjectState":
        state = cls(versions=list(versions), now=now)
        for version in state.versions:
            if st.is_tombstone_status(version.status):
                continue  # a scheduled deletion shows as the end of the live one
            start, end = version.published_start_timestamp, version.published_end_timestamp
            if version.status in st.NEW_VERSION_STATUSES:
                state.pending = version
            if start is not None and start <= now and (end is None or end > now):
                state.live = version
            if start is not None and start > now:
                state.starts.append((start, version))
            if end is not None and end > now:
                state.ends.append((end, version))
        state.handle = state.pending or next(
            (v for v in state.versions if v.status in st.PUBLISHED_STATUSES), None
        )
        if state.handle is None and state.ends:
            state.handle = state.ends[-1][1]
        if state.handle is None and state.versions:
            state.handle = state.versions[-1]
        return state

    @property
    def scheduled(self) -> bool:
        return bool(self.starts or self.ends)

    @property
    def gone(self) -> bool:
        """Every version archived (or a tombstone) and none still live: the
        object was deleted (or expired)."""
        return all(st.is_final_status(v.status) for v in self.versions) and not self.ends

    def badges(self) -> list[Badge]:
        found = []
        if self.live is not None:
            found.append(Badge("published", "published"))
        if self.pending is not None:
            text, kind = PENDING_NAMES[self.pending.status]
            found.append(Badge(text, kind))
        for moment, _version in self.starts:
            found.append(Badge(f"goes live {moment:%Y-%m-%d %H:%M} UTC", "scheduled"))
        for moment, version in self.ends:
            if not any(v is not version and start == moment for start, v in self.starts):
                found.append(Badge(f"ends {moment:%Y-%m-%d %H:%M} UTC", "scheduled"))
        if not found and self.gone:
            found.append(Badge("deleted", "gone"))
        return found

    def editable(self) -> bool:
        """Whether the form may change this object (directly, or through
        an edit of the published version)."""
        return (
            not self.scheduled
            and self.handle is not None
            and self.handle.status in (st.NEW, st.EDITABLE, st.UPDATABLE, st.PUBLISHED)
        )

    def why_not(self, name: str) -> str | None:
        """None when ``name`` applies to the object now, else the reason
        it does not (shown on the greyed-out button)."""
        if self.handle is None or self.gone:
            return "the object no longer exists"
        status = self.handle.status
        if self.scheduled:
            if name in ("revert", "discard"):
                return None
            return "a schedule is pending; revert or discard cancels it"
        pending = status in st.NEW_VERSION_STATUSES
        if name in ("publish", "revert", "discard"):
            return None if pending else "nothing is pending"
        if name == "delete":
            if status in st.DELETED_STATUSES:
                return "the deletion is already pending"
            return None
        if name == "expire":
            return None if status == st.PUBLISHED else "only a published object with nothing pending expires"
        return f"unknown transition {name!r}"
