"""The matching engine: normalise → keys → candidates → compare → score with an explanation.

Public API (see docs/matching.md):

- ``prepare(raw, ref)`` → ``Prepared``: normalise a record (mapping of ``FIELDS``) once.
- ``Index``: ``add``/``add_all``/``remove``/``search(prepared, thresholds=…)`` → ``MatchResult``s.
- ``dedupe(records, threshold=…)`` and ``link(left, right, …)`` → ``Linkage`` (pairs, clusters).
- ``MatchModel``, ``default_model()``, ``get_model(name)``, ``Thresholds``, ``PRESETS``.
- ``identifier_key(kind, value, country)``: exact-lookup keys for documents, plates, VINs, …
- ``parse_mrz(*lines)``, ``parse_date(text)``.
"""

from liaison.matching.dates import PartialDate, parse_date
from liaison.matching.identifiers import Identifier, clean, identifier_key, parse_mrz
from liaison.matching.index import Index
from liaison.matching.linkage import Linkage, dedupe, link, train
from liaison.matching.record import FIELDS, Prepared, candidate_keys, prepare
from liaison.matching.scoring import (
    PRESETS,
    MatchModel,
    MatchResult,
    Thresholds,
    default_model,
    get_model,
)

__all__ = [
    "FIELDS",
    "PRESETS",
    "Identifier",
    "Index",
    "Linkage",
    "MatchModel",
    "MatchResult",
    "PartialDate",
    "Prepared",
    "Thresholds",
    "candidate_keys",
    "clean",
    "dedupe",
    "default_model",
    "get_model",
    "identifier_key",
    "link",
    "parse_date",
    "parse_mrz",
    "prepare",
    "train",
]
