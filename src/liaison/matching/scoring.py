"""A calibrated Fellegi–Sunter model: feature levels → match probability, with its explanation.

Each feature level has an m probability (how often true matches show it) and a u probability
(how often unrelated records do); its weight is log2(m/u) bits. The prior is the chance that two
records picked at random are one person: ``matches_per_record`` over the number of records a
record is compared with, so a probability means the same against a hundred records and against
a million. Name agreement is weighted by how common the agreeing names are (term frequency):
two records of "Mohammed Ali" agree less tellingly than two of "Wojciech Brzęczyszczykiewicz".
An identifier agreement is weighted by how many values its length allows (a three-digit serial
is shared by chance far more often than a passport number).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from liaison.matching.features import FEATURES, LEVELS, MISSING, Comparison
from liaison.matching.identifiers import REGISTRY, identifier_bits
from liaison.matching.record import Prepared

F64 = NDArray[np.float64]

# Name levels at which the agreeing parts' frequency adjusts the weight.
TF_LEVELS = frozenset({"exact", "equivalent", "close", "subset", "initials", "partial"})
# Below this many records, name frequencies are too noisy to use: the average weights apply.
MIN_RECORDS_FOR_TF = 1000
# The highest prior odds any pair gets (see MatchModel.prior_bits).
MAX_PRIOR = 0.01
IDENTIFIER_FEATURES = frozenset(k for k in FEATURES if k in REGISTRY)
_FLOOR = 1e-9

DEFAULT_M: dict[str, tuple[float, ...]] = {
    "name": (0.5, 0.1, 0.12, 0.1, 0.03, 0.08, 0.03, 0.04),
    "birth_date": (0.78, 0.03, 0.03, 0.03, 0.06, 0.03, 0.02, 0.02),
    "gender": (0.97, 0.03),
    "nationality": (0.95, 0.05),
    "birth_place": (0.85, 0.08, 0.07),
    "document": (0.85, 0.05, 0.1),
    "national_id": (0.85, 0.05, 0.1),
    "phone": (0.8, 0.2),
    "email": (0.75, 0.05, 0.05, 0.05, 0.1),
    "address": (0.6, 0.1, 0.05, 0.12, 0.04, 0.09),
    "iban": (0.9, 0.1),
    "vin": (0.9, 0.1),
    "plate": (0.9, 0.1),
    "firearm": (0.9, 0.1),
}
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "name": (0.0003, 0.0002, 0.0005, 0.0005, 0.0005, 0.06, 0.05, 0.8882),
    "birth_date": (0.00005, 0.00001, 0.0001, 0.001, 0.002, 0.0008, 0.015, 0.98104),
    "gender": (0.5, 0.5),
    # Nationality and place of birth follow the name: among candidates found by name they agree
    # far more often than among random pairs, so their u is set for that population.
    "nationality": (0.3, 0.7),
    "birth_place": (0.06, 0.06, 0.88),
    "document": (1e-6, 1e-5, 0.999989),
    "national_id": (1e-6, 1e-5, 0.999989),
    "phone": (1e-5, 0.99999),
    "email": (1e-6, 1e-6, 1e-4, 1e-5, 0.999888),
    "address": (0.0002, 0.01, 0.001, 0.005, 0.05, 0.9338),
    "iban": (1e-6, 0.999999),
    "vin": (1e-6, 0.999999),
    "plate": (1e-6, 0.999999),
    "firearm": (1e-6, 0.999999),
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Probabilities at which a pair is a *match* or a *possible* match (for human review)."""

    match: float = 0.9
    possible: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.possible <= self.match < 1.0:
            raise ValueError("thresholds need 0 < possible ≤ match < 1")

    def band(self, probability: float) -> str:
        if probability >= self.match:
            return "match"
        if probability >= self.possible:
            return "possible"
        return "no_match"


# Per use: alert checks lean towards not missing a wanted person, cross-checks towards not
# notifying owners about strangers. Deployments override these in configuration.
PRESETS: dict[str, Thresholds] = {
    "search": Thresholds(0.9, 0.5),
    "crosscheck": Thresholds(0.95, 0.8),
    "alert": Thresholds(0.85, 0.3),
    "screening": Thresholds(0.9, 0.3),
    "dedupe": Thresholds(0.9, 0.5),
}


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one feature saw and how many bits (log2 Bayes factor) it added."""

    feature: str
    level: str
    bits: float
    detail: str

    @property
    def effect(self) -> str:
        if self.level == MISSING:
            return "missing"
        return "agrees" if self.bits > 0 else "disagrees" if self.bits < 0 else "neutral"


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A scored pair with the explanation of every feature's contribution."""

    left: str
    right: str
    probability: float
    bits: float
    band: str
    contributions: tuple[Contribution, ...]

    @property
    def ref(self) -> str:
        """The stored record found (the right side of the pair)."""
        return self.right

    def explanation(self) -> str:
        """One line: the features that agreed, disagreed or were missing, and their weight."""
        parts = [
            f"{c.feature} {c.effect} ({c.bits:+.1f}): {c.detail}"
            for c in sorted(self.contributions, key=lambda c: (-abs(c.bits), c.feature))
            if c.level != MISSING
        ]
        missing = sorted(c.feature for c in self.contributions if c.level == MISSING)
        if missing:
            parts.append("missing: " + ", ".join(missing))
        return "; ".join(parts)


class Frequencies:
    """How many records hold each name symbol: the term frequencies of name weighting."""

    def __init__(self, counts: Mapping[str, int], records: int) -> None:
        self.counts = counts
        self.records = records

    @property
    def active(self) -> bool:
        return self.records >= MIN_RECORDS_FOR_TF

    def log2p(self, symbols: Sequence[str]) -> float:
        """log2 of the chance that a random record holds all these symbols (independence)."""
        return sum(math.log2(max(self.counts.get(s, 0), 1) / self.records) for s in symbols)


def _logistic(bits: float) -> float:
    if bits > 60:
        return 1.0
    if bits < -1000:
        return 0.0
    return 1.0 / (1.0 + math.pow(2.0, -bits))


@functools.lru_cache(maxsize=4096)
def _level_bits(m: tuple[float, ...], u: tuple[float, ...]) -> F64:
    """``MatchModel.level_bits`` for these m and u (weighing many pairs asks for it often)."""
    bits = np.append(
        np.log2(
            np.maximum(np.array(m, dtype=np.float64), _FLOOR)
            / np.maximum(np.array(u, dtype=np.float64), _FLOOR)
        ),
        0.0,
    )
    bits.setflags(write=False)
    return bits


@dataclass
class MatchModel:
    """A named list of weighted features with typed settings, saved and loaded as JSON.

    ``m``/``u`` give one probability per level of each feature (``features.LEVELS``);
    ``matches_per_record`` is the expected number of other records of the same person a record
    has; ``tf_bonus_bits``/``tf_penalty_bits`` bound how far name frequency moves a name weight.
    """

    name: str = "person-v1"
    features: tuple[str, ...] = tuple(FEATURES)
    m: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_M.items()}
    )
    u: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_U.items()}
    )
    matches_per_record: float = 1.0
    tf_bonus_bits: float = 3.0
    tf_penalty_bits: float = 6.0
    description: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
        for feature in self.features:
            levels = LEVELS[feature]
            if len(self.m.get(feature, ())) != len(levels) or len(self.u.get(feature, ())) != len(
                levels
            ):
                raise ValueError(f"feature {feature} needs one m and one u per level {levels}")
        if not 0 < self.matches_per_record < 1e6:
            raise ValueError("matches_per_record must be positive")
        if self.tf_bonus_bits < 0 or self.tf_penalty_bits < 0:
            raise ValueError("tf bounds must not be negative")

    def copy(self) -> MatchModel:
        return MatchModel.from_dict(self.to_dict())

    # ── weights ────────────────────────────────────────────────────────────────────────────

    def prior_bits(self, population: int) -> float:
        """log2 prior odds that a record matches one of ``population`` others.

        Never above ``MAX_PRIOR``: in a handful of records, two of them are not assumed to be
        one person before any evidence.
        """
        prior = min(MAX_PRIOR, self.matches_per_record / max(population, 1))
        return math.log2(prior / (1 - prior))

    def level_bits(self, feature: str) -> F64:
        """log2(m/u) per level, and 0 appended for a missing field (index -1); read-only."""
        return _level_bits(tuple(self.m[feature]), tuple(self.u[feature]))

    def _name_tf_bits(self, level: int, log2p: float) -> float:
        m = max(self.m["name"][level], _FLOOR)
        log2u = math.log2(max(self.u["name"][level], _FLOOR))
        adjusted = min(max(log2p, log2u - self.tf_bonus_bits), log2u + self.tf_penalty_bits)
        return math.log2(m) - adjusted

    def weight(
        self,
        feature: str,
        comparison: Comparison,
        *,
        frequencies: Frequencies | None = None,
        chance_bits: int | None = None,
    ) -> float:
        """Bits one comparison adds: log2(m/u), with the frequency and specificity adjustments."""
        if comparison.level == MISSING:
            return 0.0
        index = LEVELS[feature].index(comparison.level)
        if (
            feature == "name"
            and comparison.level in TF_LEVELS
            and comparison.tokens
            and frequencies is not None
            and frequencies.active
        ):
            return self._name_tf_bits(index, frequencies.log2p(comparison.tokens))
        m = max(self.m[feature][index], _FLOOR)
        u = max(self.u[feature][index], _FLOOR)
        if comparison.level == "exact" and chance_bits is not None:
            u = max(u, 2.0**-chance_bits)
        return math.log2(m / u)

    # ── one pair, explained ────────────────────────────────────────────────────────────────

    def score(
        self,
        a: Prepared,
        b: Prepared,
        thresholds: Thresholds = PRESETS["search"],
        *,
        population: int = 1000,
        frequencies: Frequencies | None = None,
    ) -> MatchResult:
        """Compare two prepared records and explain the probability that they are one person.

        ``population`` is how many records ``a`` was compared with (it sets the prior);
        ``frequencies`` gives name frequencies (an ``Index`` passes its own).
        """
        bits = self.prior_bits(population)
        contributions = []
        for feature in self.features:
            comparison = FEATURES[feature](a, b)
            chance = None
            if feature in IDENTIFIER_FEATURES and comparison.level == "exact":
                chance = identifier_bits(feature, a.identifiers[feature])
            w = self.weight(feature, comparison, frequencies=frequencies, chance_bits=chance)
            bits += w
            contributions.append(Contribution(feature, comparison.level, w, comparison.detail))
        probability = _logistic(bits)
        return MatchResult(
            a.ref, b.ref, probability, bits, thresholds.band(probability), tuple(contributions)
        )

    def probability(
        self,
        a: Prepared,
        b: Prepared,
        *,
        population: int = 1000,
        frequencies: Frequencies | None = None,
    ) -> float:
        return self.score(a, b, population=population, frequencies=frequencies).probability

    # ── persistence ────────────────────────────────────────────────────────────────────────

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "features": list(self.features),
            "levels": {f: list(LEVELS[f]) for f in self.features},
            "m": {f: [round(x, 8) for x in self.m[f]] for f in self.features},
            "u": {f: [float(f"{x:.6g}") for x in self.u[f]] for f in self.features},
            "matches_per_record": round(self.matches_per_record, 6),
            "tf_bonus_bits": self.tf_bonus_bits,
            "tf_penalty_bits": self.tf_penalty_bits,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchModel:
        """A model from its settings; unknown settings and mismatched levels are refused."""
        allowed = {
            "name",
            "description",
            "features",
            "levels",
            "m",
            "u",
            "matches_per_record",
            "tf_bonus_bits",
            "tf_penalty_bits",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown model settings {sorted(unknown)}")
        features = tuple(data.get("features", FEATURES))
        m = {k: [float(x) for x in v] for k, v in dict(data["m"]).items()}
        u = {k: [float(x) for x in v] for k, v in dict(data["u"]).items()}
        for feature, levels in dict(data.get("levels", {})).items():
            if feature in LEVELS and tuple(levels) != LEVELS[feature]:
                m[feature] = _upgraded(feature, tuple(levels), m[feature], DEFAULT_M)
                u[feature] = _upgraded(feature, tuple(levels), u[feature], DEFAULT_U)
        return cls(
            name=str(data.get("name", "person-v1")),
            description=str(data.get("description", "")),
            features=features,
            m=m,
            u=u,
            matches_per_record=float(data.get("matches_per_record", 1.0)),
            tf_bonus_bits=float(data.get("tf_bonus_bits", 3.0)),
            tf_penalty_bits=float(data.get("tf_penalty_bits", 6.0)),
        )

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        return cls.from_dict(json.loads(text))

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> MatchModel:
        return cls.from_json(path.read_text(encoding="utf-8"))


def _upgraded(
    feature: str,
    saved: tuple[str, ...],
    values: list[float],
    defaults: Mapping[str, tuple[float, ...]],
) -> list[float]:
    """A saved model's probabilities for a feature that has gained levels since: the saved
    levels keep their values, the new ones take the default's, and the whole sums to one.
    Levels removed or reordered are refused."""
    current = LEVELS[feature]
    order = [current.index(level) for level in saved if level in current]
    if len(order) != len(saved) or order != sorted(order) or len(values) != len(saved):
        raise ValueError(f"model levels of {feature} differ from this version's")
    by_level = dict(zip(saved, values, strict=True))
    default = dict(zip(current, defaults[feature], strict=True))
    upgraded = [by_level.get(level, default[level]) for level in current]
    total = sum(upgraded)
    return [x / total for x in upgraded]


def _packaged(name: str) -> MatchModel:
    resource = resources.files("liaison.matching").joinpath(f"data/{name}.json")
    if resource.is_file():
        return MatchModel.from_json(resource.read_text("utf-8"))
    return MatchModel(name=name)


MODELS: dict[str, Callable[[], MatchModel]] = {"person-v1": lambda: _packaged("person-v1")}


def register_model(name: str, factory: Callable[[], MatchModel]) -> None:
    """Make a model available by name (``get_model``)."""
    MODELS[name] = factory


def get_model(name: str) -> MatchModel:
    """A fresh copy of a registered model; unknown names are refused."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
    return factory()


def default_model() -> MatchModel:
    """The shipped model (weights estimated on the synthetic world), or the priors if absent."""
    return get_model("person-v1")
