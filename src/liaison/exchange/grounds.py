"""Grounds on which a requested agency may refuse a request for information.

The default list follows Article 6(1) of Directive (EU) 2023/977 (points (a) to (h)); a
deployment under another framework supplies its own list in a file
(``LIAISON_REFUSAL_GROUNDS_FILE``: one ``code<TAB>text`` per line, ``#`` comments). A refusal
must name one of the configured codes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DIRECTIVE_2023_977_ART_6: dict[str, str] = {
    "not_available": (
        "Art. 6(1)(a): the requested information is not available to the Single Point of "
        "Contact and the competent law enforcement authorities of the requested Member State"
    ),
    "request_incomplete": (
        "Art. 6(1)(b): the request does not meet the requirements of Article 4 "
        "(content of a request for information)"
    ),
    "judicial_authorisation_refused": (
        "Art. 6(1)(c): the judicial authorisation required under national law (Article 9) "
        "was refused"
    ),
    "personal_data_category": (
        "Art. 6(1)(d): the requested information is personal data other than the categories "
        "that may be provided (Article 10(b))"
    ),
    "inaccurate_or_outdated": (
        "Art. 6(1)(e): the requested information was found to be inaccurate, incomplete or no "
        "longer up to date and cannot be provided (Article 7(2) of Directive (EU) 2016/680)"
    ),
    "security_investigation_safety": (
        "Art. 6(1)(f): providing the information would be contrary to or harm the essential "
        "interests of national security, jeopardise an ongoing criminal investigation or the "
        "safety of an individual, or unduly harm the important protected interests of a legal "
        "person"
    ),
    "minor_offence_or_not_criminal": (
        "Art. 6(1)(g): the request concerns an offence punishable by imprisonment of one year "
        "or less under the law of the requested Member State, or a matter that is not a "
        "criminal offence under that law"
    ),
    "originator_consent_missing": (
        "Art. 6(1)(h): the information was obtained from another Member State or a third "
        "country and that State or country has not consented to its provision"
    ),
}


@lru_cache(maxsize=8)
def load_grounds(path: Path | None = None) -> dict[str, str]:
    """The configured refusal grounds: code → text (the Directive's list without a file)."""
    if path is None:
        return dict(DIRECTIVE_2023_977_ART_6)
    grounds: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        code, _, text = line.partition("\t")
        code = code.strip()
        if not code.replace("_", "").isalnum():
            raise ValueError(
                f"{path}:{number}: refusal-ground code {code!r} must be letters, digits, _"
            )
        if not text.strip():
            raise ValueError(f"{path}:{number}: refusal ground {code!r} needs its text after a tab")
        grounds[code] = text.strip()
    if not grounds:
        raise ValueError(f"{path}: no refusal grounds listed")
    return grounds


def configured_grounds() -> dict[str, str]:
    from liaison.core.settings import get_settings

    return load_grounds(get_settings().refusal_grounds_file)
