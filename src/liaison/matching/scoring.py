"""A calibrated Fellegi–Sunter model: feature levels → match probability, with its explanation.

Each feature level has an m probability (among true matches) and a u probability (among
non-matches); its weight is log2(m/u) bits. u comes from random pairs of the data, m and the
prior are estimated by expectation–maximisation over blocked candidate pairs, as in Splink.
Name agreement is weighted by how common the agreeing names are (term frequency): two records
of "Mohammed Ali" agree less tellingly than two of "Wojciech Brzęczyszczykiewicz".
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from liaison.matching.features import FEATURES, LEVELS, MISSING, Comparison
from liaison.matching.record import Prepared

DEFAULT_M: dict[str, tuple[float, ...]] = {
    "name": (0.55, 0.1, 0.2, 0.1, 0.03, 0.02),
    "birth_date": (0.8, 0.03, 0.03, 0.06, 0.03, 0.02, 0.03),
    "gender": (0.97, 0.03),
    "nationality": (0.95, 0.05),
    "birth_place": (0.85, 0.08, 0.07),
    "document": (0.85, 0.05, 0.1),
    "national_id": (0.85, 0.05, 0.1),
    "phone": (0.8, 0.2),
    "email": (0.8, 0.05, 0.15),
    "address": (0.7, 0.15, 0.05, 0.1),
    "iban": (0.9, 0.1),
    "vin": (0.9, 0.1),
    "plate": (0.9, 0.1),
    "firearm": (0.9, 0.1),
}
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "name": (0.0005, 0.0003, 0.002, 0.05, 0.05, 0.8972),
    "birth_date": (0.00005, 0.00001, 0.0001, 0.002, 0.001, 0.015, 0.98184),
    "gender": (0.5, 0.5),
    # Nationality and place of birth follow the name: among candidates found by name they agree
    # far more often than among random pairs, so their u is set for that population.
    "nationality": (0.3, 0.7),
    "birth_place": (0.06, 0.06, 0.88),
    "document": (1e-6, 1e-5, 0.999989),
    "national_id": (1e-6, 1e-5, 0.999989),
    "phone": (1e-5, 0.99999),
    "email": (1e-6, 1e-4, 0.999899),
    "address": (0.001, 0.005, 0.05, 0.944),
    "iban": (1e-6, 0.999999),
    "vin": (1e-6, 0.999999),
    "plate": (1e-6, 0.999999),
    "firearm": (1e-6, 0.999999),
}
TF_LEVELS = frozenset({"exact", "equivalent", "close"})
_FLOOR = 1e-9
MIN_RECORDS_FOR_U = 500


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
    "alert": Thresholds(0.85, 0.4),
    "dedupe": Thresholds(0.9, 0.5),
}


@dataclass(frozen=True, slots=True)
class Contribution:
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

    def explanation(self) -> str:
        """One line: the features that agreed, disagreed or were missing, and their weight."""
        parts = [
            f"{c.feature} {c.effect} ({c.bits:+.1f}): {c.detail}"
            for c in sorted(self.contributions, key=lambda c: -abs(c.bits))
            if c.level != MISSING
        ]
        missing = [c.feature for c in self.contributions if c.level == MISSING]
        if missing:
            parts.append("missing: " + ", ".join(missing))
        return "; ".join(parts)


@dataclass
class MatchModel:
    """Feature weights, the prior and name frequencies. Registered and saved by name."""

    name: str = "person-v1"
    m: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_M.items()}
    )
    u: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_U.items()}
    )
    prior: float = 0.001
    token_frequency: dict[str, float] = field(default_factory=dict)
    default_frequency: float = 1e-4
    features: tuple[str, ...] = tuple(FEATURES)

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
        for feature in self.features:
            if len(self.m[feature]) != len(LEVELS[feature]) or len(self.u[feature]) != len(
                LEVELS[feature]
            ):
                raise ValueError(f"feature {feature} needs one m and u per level {LEVELS[feature]}")

    # ── scoring ────────────────────────────────────────────────────────────────────────────

    def weight(self, feature: str, level: str, tokens: Sequence[str] = ()) -> float:
        if level == MISSING:
            return 0.0
        index = LEVELS[feature].index(level)
        m = max(self.m[feature][index], _FLOOR)
        u = max(self.u[feature][index], _FLOOR)
        if feature == "name" and level in TF_LEVELS and tokens and self.token_frequency:
            u_tf = 1.0
            for token in set(tokens):
                u_tf *= self.token_frequency.get(token, self.default_frequency)
            # Frequency adjusts the average u within bounds: a rare name adds at most 3 bits (name
            # parts are not independent: given and family names follow nationality), a common
            # one removes up to 6.
            u = min(max(u_tf, u / 8), u * 64)
        return math.log2(m / u)

    def compare(self, a: Prepared, b: Prepared) -> list[tuple[str, Comparison]]:
        return [(feature, FEATURES[feature](a, b)) for feature in self.features]

    def probability(self, a: Prepared, b: Prepared) -> float:
        """The match probability alone (no explanation), for bulk scoring."""
        bits = math.log2(self.prior / (1 - self.prior))
        for feature in self.features:
            comparison = FEATURES[feature](a, b)
            bits += self.weight(feature, comparison.level, comparison.tokens)
        return 1.0 / (1.0 + 2.0 ** (-bits)) if bits > -1000 else 0.0

    def score(
        self, a: Prepared, b: Prepared, thresholds: Thresholds = PRESETS["search"]
    ) -> MatchResult:
        """Compare two prepared records and explain the probability that they are one person."""
        contributions = []
        bits = math.log2(self.prior / (1 - self.prior))
        for feature, comparison in self.compare(a, b):
            w = self.weight(feature, comparison.level, comparison.tokens)
            bits += w
            contributions.append(Contribution(feature, comparison.level, w, comparison.detail))
        probability = 1.0 / (1.0 + 2.0 ** (-bits)) if bits > -1000 else 0.0
        return MatchResult(
            a.ref, b.ref, probability, bits, thresholds.band(probability), tuple(contributions)
        )

    # ── estimation ─────────────────────────────────────────────────────────────────────────

    def estimate_frequencies(self, records: Iterable[Prepared]) -> None:
        """Name-symbol frequencies from the data (the term-frequency table)."""
        counts: Counter[str] = Counter()
        total = 0
        for record in records:
            for symbol in record.symbols:
                counts[symbol] += 1
                total += 1
        if total:
            self.token_frequency = {k: v / total for k, v in counts.items()}
            self.default_frequency = 1.0 / total

    def _levels(self, pairs: Sequence[tuple[Prepared, Prepared]]) -> np.ndarray:
        matrix = np.full((len(pairs), len(self.features)), -1, dtype=np.int8)
        for row, (a, b) in enumerate(pairs):
            for col, feature in enumerate(self.features):
                level = FEATURES[feature](a, b).level
                if level != MISSING:
                    matrix[row, col] = LEVELS[feature].index(level)
        return matrix

    def estimate_u(
        self, records: Sequence[Prepared], *, samples: int = 50_000, seed: int = 1
    ) -> None:
        """u probabilities from random pairs (almost all of which are different people).

        Too few records give too few distinct pairs: below ``MIN_RECORDS_FOR_U`` the shipped u
        probabilities stay.
        """
        if len(records) < MIN_RECORDS_FOR_U:
            return
        rng = random.Random(seed)
        pairs = []
        for _ in range(samples):
            i, j = rng.randrange(len(records)), rng.randrange(len(records))
            if i != j:
                pairs.append((records[i], records[j]))
        levels = self._levels(pairs)
        for col, feature in enumerate(self.features):
            observed = levels[:, col][levels[:, col] >= 0]
            if len(observed) < 50:
                continue
            counts = np.bincount(observed, minlength=len(LEVELS[feature])).astype(float)
            # Add-one smoothing scaled so that unseen agreement stays rare but non-zero.
            smoothed = (counts + 0.5) / (counts.sum() + 0.5 * len(counts))
            self.u[feature] = [float(x) for x in smoothed]

    def estimate_m(
        self,
        pairs: Sequence[tuple[Prepared, Prepared]],
        *,
        exclude: frozenset[str] = frozenset(),
        iterations: int = 15,
    ) -> float:
        """m probabilities by expectation–maximisation over blocked pairs (u fixed).

        As in Splink, the features the pairs were blocked on are ``exclude``d: among pairs that
        share a birth date, agreement on the date says nothing, so its m cannot be learnt there.
        Returns the estimated share of matches among the pairs.
        """
        if not pairs:
            return self.prior
        return self._em(pairs, exclude, iterations)

    def _em(
        self, pairs: Sequence[tuple[Prepared, Prepared]], exclude: frozenset[str], iterations: int
    ) -> float:
        levels = self._levels(pairs)
        n_features = len(self.features)
        prior = 0.05
        for _ in range(iterations):
            log_m = np.zeros(len(pairs))
            log_u = np.zeros(len(pairs))
            for col, feature in enumerate(self.features):
                if feature in exclude:
                    continue
                present = levels[:, col] >= 0
                idx = levels[present, col]
                log_m[present] += np.log(np.maximum(np.array(self.m[feature])[idx], _FLOOR))
                log_u[present] += np.log(np.maximum(np.array(self.u[feature])[idx], _FLOOR))
            logit = np.log(prior) - np.log1p(-prior) + log_m - log_u
            posterior = 1.0 / (1.0 + np.exp(-np.clip(logit, -500, 500)))
            prior = float(np.clip(posterior.mean(), 1e-6, 0.999))
            for col in range(n_features):
                feature = self.features[col]
                if feature in exclude:
                    continue
                present = levels[:, col] >= 0
                weights = np.bincount(
                    levels[present, col], weights=posterior[present], minlength=len(LEVELS[feature])
                )
                total = weights.sum()
                if total > 1.0:
                    self.m[feature] = [
                        float(x) for x in (weights + 0.01) / (total + 0.01 * len(weights))
                    ]
        return prior

    def estimate_prior(
        self, pairs: Sequence[tuple[Prepared, Prepared]], *, iterations: int = 20
    ) -> None:
        """The share of matches among candidate pairs, with m and u fixed (the E-step alone)."""
        if not pairs:
            return
        levels = self._levels(pairs)
        bits = np.zeros(len(pairs))
        for col, feature in enumerate(self.features):
            present = levels[:, col] >= 0
            weights = np.array([self.weight(feature, level) for level in LEVELS[feature]])
            bits[present] += weights[levels[present, col]]
        prior = 0.01
        for _ in range(iterations):
            logit = (math.log2(prior / (1 - prior)) + bits) * math.log(2)
            posterior = 1.0 / (1.0 + np.exp(-np.clip(logit, -500, 500)))
            prior = float(np.clip(posterior.mean(), 1e-6, 0.99))
        self.prior = prior

    # ── persistence ────────────────────────────────────────────────────────────────────────

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "m": self.m,
                "u": self.u,
                "prior": self.prior,
                "features": list(self.features),
            },
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        data = json.loads(text)
        allowed = {"name", "m", "u", "prior", "features"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown model settings {sorted(unknown)}")
        return cls(
            name=data["name"],
            m=data["m"],
            u=data["u"],
            prior=float(data["prior"]),
            features=tuple(data["features"]),
        )

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")


def default_model() -> MatchModel:
    """The shipped model (weights estimated on the synthetic world), or the priors if absent."""
    resource = resources.files("liaison.matching").joinpath("data/person-v1.json")
    if resource.is_file():
        return MatchModel.from_json(resource.read_text("utf-8"))
    return MatchModel()


MODELS = {"person-v1": default_model}


def get_model(name: str) -> MatchModel:
    """A registered model by name; unknown names are refused."""
    try:
        return MODELS[name]()
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
