"""The matching engine: normalise → keys → candidates → compare → score with an explanation.

Public API (see docs/matching.md):

- ``PersonRecord`` (raw fields) and ``prepare(record, ref)`` → ``Prepared`` (normalised once).
- ``Index``: ``add``/``add_all``/``remove``, ``search(prepared, limit=, threshold=)`` and
  ``search_many(queries)`` → ``MatchResult`` (ref, probability, band, ``explanation()``).
- ``dedupe(records, threshold=)`` and ``link(left, right, threshold=)`` → ``Linkage``.
- ``MatchModel`` (``train``, ``save``/``load``), ``get_model(name)``, ``register_model``,
  ``default_model()``, ``Thresholds``, ``PRESETS``.
- ``match_identifier(kind, value, country)``: exact-lookup keys for documents, plates, VINs, …;
  ``clean(kind, value, country)`` → ``Identifier`` (valid or flagged).
- ``parse_mrz(*lines)``, ``parse_date(text)``, ``candidate_keys(prepared)``.
"""

from liaison.matching.dates import PartialDate, parse_date
from liaison.matching.estimate import PLAUSIBLE_MATCHES_PER_RECORD
from liaison.matching.features import FEATURES, LEVELS
from liaison.matching.identifiers import (
    REGISTRY,
    Identifier,
    clean,
    identifier_key,
    match_identifier,
)
from liaison.matching.index import Index
from liaison.matching.keys import candidate_keys
from liaison.matching.linkage import Linkage, dedupe, link, train
from liaison.matching.mrz import MRZ, parse_mrz
from liaison.matching.record import FIELDS, PersonRecord, Prepared, prepare
from liaison.matching.scoring import (
    PRESETS,
    Contribution,
    MatchModel,
    MatchResult,
    Thresholds,
    default_model,
    get_model,
    register_model,
)

Match = MatchResult

__all__ = [
    "FEATURES",
    "FIELDS",
    "LEVELS",
    "MRZ",
    "PLAUSIBLE_MATCHES_PER_RECORD",
    "PRESETS",
    "REGISTRY",
    "Contribution",
    "Identifier",
    "Index",
    "Linkage",
    "Match",
    "MatchModel",
    "MatchResult",
    "PartialDate",
    "PersonRecord",
    "Prepared",
    "Thresholds",
    "candidate_keys",
    "clean",
    "dedupe",
    "default_model",
    "get_model",
    "identifier_key",
    "link",
    "match_identifier",
    "parse_date",
    "parse_mrz",
    "prepare",
    "register_model",
    "train",
]
