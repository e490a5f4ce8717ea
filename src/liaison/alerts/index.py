"""The in-memory index of person alerts in force, for checks by name in any script.

It is the shared information system's ``PersonIndex`` (same matching engine, same search and
scoring) filled from alerts instead of records: one per database engine, catching up with the
database by the alerts' change number before every use, so that several processes (web
workers, the CLI) stay consistent. An alert leaves it when it is no longer in force (executed,
expired, deleted) or when its category is not found by name (finger-mark-only alerts).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from liaison.alerts.categories import CATEGORIES
from liaison.alerts.model import IN_FORCE, Alert, AlertSequence
from liaison.entities.crosscheck import PersonIndex
from liaison.entities.service import prepared
from liaison.matching import Prepared


class AlertIndex(PersonIndex):
    """Person alerts in force that a name check can find, prepared once; ``owner`` maps an
    alert id to its issuing agency."""

    def refresh(self, session: Session) -> None:
        """Catch up with every alert change committed since the last refresh."""
        with self.lock:
            current = int(session.scalar(select(AlertSequence.value)) or 0)
            if current <= self.seen:
                return
            rows = session.execute(
                select(
                    Alert.id,
                    Alert.issuer_agency_id,
                    Alert.category,
                    Alert.subject_type,
                    Alert.properties,
                    Alert.status,
                    Alert.change_seq,
                )
                .where(Alert.change_seq > self.seen, Alert.subject_kind == "person")
                .order_by(Alert.change_seq)
            ).all()
            latest: dict[str, tuple[str, bool, dict[str, Any]]] = {}
            top = current
            for alert_id, issuer, category, subject_type, props, status, seq in rows:
                known = CATEGORIES.get(category)
                live = (
                    status in IN_FORCE
                    and known is not None
                    and known.checkable_by_name
                    and subject_type == "Person"
                )
                latest[alert_id] = (issuer, live, props)
                top = max(top, seq)
            adds: list[Prepared] = []
            for alert_id, (issuer, live, props) in latest.items():
                record = prepared(alert_id, "Person", props) if live else None
                if record is None:
                    self.index.remove(alert_id)
                    self.owner.pop(alert_id, None)
                    continue
                adds.append(record)
                self.owner[alert_id] = issuer
            self.index.add_all(adds)
            self.seen = top

    def __len__(self) -> int:
        with self.lock:
            return len(self.index)


_INDEXES: weakref.WeakKeyDictionary[Engine, AlertIndex] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def alert_index(session: Session) -> AlertIndex:
    """The person-alert index of the session's database, brought up to date."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _LOCK:
        index = _INDEXES.get(engine)
        if index is None:
            index = _INDEXES[engine] = AlertIndex()
    index.refresh(session)
    return index
