"""Candidate keys stored in SQLite and PostgreSQL find the same candidates as the memory index."""

from __future__ import annotations

from liaison.db.engine import Database
from liaison.matching.model import candidate_refs, remove_keys, store_keys
from liaison.matching.record import prepare


def test_stored_keys_find_cross_script_candidates(db: Database) -> None:
    people = {
        "a": {"full_name": "Фёдор Щербаков", "dob": "1979-05-11"},
        "b": {"given_name": "Anna", "family_name": "Kowalska", "dob": "1984-03-02"},
        "c": {"given_name": "Jan", "family_name": "de Vries", "document_number": "NX1234567"},
    }
    with db.session() as s:
        for ref, raw in people.items():
            assert store_keys(s, "entities", prepare(raw, ref)) > 0
        store_keys(s, "alerts", prepare(people["b"], "alert-1"))
    with db.session() as s:
        query = prepare(
            {"given_name": "Fjodor", "family_name": "Schtscherbakow", "dob": "1979-11-05"}, "q"
        )
        assert candidate_refs(s, "entities", query)[0] == "a"
        by_document = prepare({"document_number": "nx-1234567"}, "q")
        assert candidate_refs(s, "entities", by_document) == ["c"]
        assert candidate_refs(s, "alerts", prepare(people["b"], "q")) == ["alert-1"]
        remove_keys(s, "entities", "c")
    with db.session() as s:
        assert candidate_refs(s, "entities", by_document) == []
