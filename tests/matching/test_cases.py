"""Table-driven matching cases: each feature, each script, partial and swapped dates,
invalid identifiers, missing fields, and look-alikes that must not match."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liaison.matching.record import prepare
from liaison.matching.scoring import Frequencies, MatchModel, Thresholds, default_model

MODEL = default_model()
# A realistic prior for a screening query among candidates (one true match in a few hundred).
MODEL.prior = 0.003
STRICT = Thresholds(0.9, 0.5)


def person(**fields: str) -> dict[str, str]:
    return fields


SAME_PERSON = [
    (
        "identical",
        person(given_name="Anna", family_name="Kowalska", dob="1984-03-02"),
        person(given_name="Anna", family_name="Kowalska", dob="1984-03-02"),
    ),
    (
        "cyrillic vs ICAO",
        person(full_name="Щербаков Фёдор", dob="1979-05-11", nationality="RU"),
        person(given_name="Fedor", family_name="Shcherbakov", dob="1979-05-11", nationality="RU"),
    ),
    (
        "cyrillic vs German transcription",
        person(full_name="Фёдор Щербаков", dob="1979-05-11"),
        person(given_name="Fjodor", family_name="Schtscherbakow", dob="1979-05-11"),
    ),
    (
        "greek vs ELOT",
        person(full_name="Γεώργιος Παπαδόπουλος", dob="1966-01-20"),
        person(given_name="Georgios", family_name="Papadopoulos", dob="1966-01-20"),
    ),
    (
        "arabic vs Latin",
        person(full_name="محمد الحسن", dob="1990-07-07"),
        person(given_name="Mohamed", family_name="El Hassan", dob="1990-07-07"),
    ),
    (
        "arabic vs French transcription",
        person(full_name="كريم الشريف", dob="1980-12-17"),
        person(given_name="Karim", family_name="Cherif", dob="1980-12-17"),
    ),
    (
        "arabic vs vocalised spelling, taa marbuta",
        person(full_name="خديجة مراد", dob="1968-01-29"),
        person(given_name="Khadija", family_name="Mourad", dob="1968-01-29"),
    ),
    (
        "ukrainian vs Ukrainian passport",
        person(full_name="Дмитро Гончаренко", dob="1983-08-09"),
        person(given_name="Dmytro", family_name="Honcharenko", dob="1983-08-09"),
    ),
    (
        "arabic theophoric name vs Latin",
        person(full_name="عبد الرحمن حداد", dob="2007-12-14"),
        person(given_name="Abdelrahman", family_name="Haddad", dob="2007-12-14"),
    ),
    (
        "greek digraphs vs ELOT",
        person(full_name="Ευάγγελος Μπαλτάς", dob="1971-03-15"),
        person(given_name="Evangelos", family_name="Baltas", dob="1971-03-15"),
    ),
    (
        "han vs pinyin, order",
        person(full_name="王小明", dob="1988-12-01"),
        person(given_name="Xiaoming", family_name="Wang", dob="1988-12-01"),
    ),
    (
        "hangul vs customary spelling",
        person(full_name="김정은", dob="1984-01-08"),
        person(given_name="Jeong Eun", family_name="Kim", dob="1984-01-08"),
    ),
    (
        "han vs Wade-Giles",
        person(full_name="王小明", dob="1988-12-01"),
        person(full_name="Wang Hsiao-ming", dob="1988-12-01"),
    ),
    (
        "Mohammed / Muhammad",
        person(given_name="Mohammed", family_name="Haddad", dob="1975-04-04"),
        person(given_name="Muhammad", family_name="Haddad", dob="1975-04-04"),
    ),
    (
        "nickname Sasha",
        person(given_name="Aleksandr", family_name="Volkov", dob="1982-09-30"),
        person(given_name="Sasha", family_name="Volkov", dob="1982-09-30"),
    ),
    (
        "name order swapped",
        person(given_name="Jan", family_name="de Vries", dob="1970-02-14"),
        person(full_name="de Vries Jan", dob="1970-02-14"),
    ),
    (
        "day/month swapped",
        person(given_name="Paweł", family_name="Nowak", dob="1991-04-07"),
        person(given_name="Pawel", family_name="Nowak", dob="1991-07-04"),
    ),
    (
        "year off by one",
        person(given_name="Lucía", family_name="García Pérez", dob="1993-10-21"),
        person(given_name="Lucia", family_name="Garcia Perez", dob="1994-10-21"),
    ),
    (
        "partial date",
        person(
            given_name="Jürgen", family_name="Müller", dob="1960-05-09", document_number="C01X00T47"
        ),
        person(
            given_name="Juergen", family_name="Mueller", dob="1960", document_number="C01X00T47"
        ),
    ),
    (
        "typo plus document",
        person(
            given_name="Sofia",
            family_name="Nikolaou",
            dob="1968-07-10",
            document_number="S67008470",
        ),
        person(
            given_name="Sofia",
            family_name="Nlkolaou",
            dob="1968-07-10",
            document_number="S67008470",
        ),
    ),
    (
        "phone and email carry it",
        person(
            given_name="Thomas", family_name="Bauer", phone="+4915118034063", email="t.bauer@gmx.de"
        ),
        person(
            given_name="Tom",
            family_name="Bauer",
            phone="0151 18034063",
            nationality="DE",
            email="T.Bauer@gmx.de",
        ),
    ),
]

DIFFERENT_PERSONS = [
    (
        "same common name, other date",
        person(given_name="Mohamed", family_name="Ali", dob="1980-01-01"),
        person(given_name="Mohamed", family_name="Ali", dob="1995-06-17"),
    ),
    (
        "same name, other documents and place",
        person(
            given_name="Maria",
            family_name="Rossi",
            dob="1975",
            document_number="YA1234567",
            birth_place="Roma",
        ),
        person(
            given_name="Maria",
            family_name="Rossi",
            dob="1975-03-03",
            document_number="YB7654321",
            birth_place="Milano",
        ),
    ),
    (
        "different people",
        person(given_name="Piotr", family_name="Nowak", dob="1970-01-01"),
        person(given_name="Hans", family_name="Schmidt", dob="1970-01-01"),
    ),
    (
        "shared surname only",
        person(given_name="Anna", family_name="Ivanova", dob="1990-05-05"),
        person(given_name="Olga", family_name="Ivanova", dob="1962-11-30"),
    ),
    (
        "one consonant key, other parts and date",
        person(full_name="كريم منصور", dob="1980-12-17"),
        person(given_name="Karim", family_name="Nasser", dob="1971-04-02"),
    ),
    (
        "other sex same name",
        person(given_name="Andrea", family_name="Costa", dob="1985-02-02", gender="F"),
        person(given_name="Andrea", family_name="Costa", dob="1958-08-08", gender="M"),
    ),
]


@pytest.mark.parametrize(("case", "left", "right"), SAME_PERSON, ids=[c[0] for c in SAME_PERSON])
def test_same_person_matches(case: str, left: dict[str, str], right: dict[str, str]) -> None:
    result = MODEL.score(prepare(left, "L"), prepare(right, "R"), STRICT)
    assert result.band == "match", f"{case}: {result.probability:.3f} {result.explanation()}"


@pytest.mark.parametrize(
    ("case", "left", "right"), DIFFERENT_PERSONS, ids=[c[0] for c in DIFFERENT_PERSONS]
)
def test_lookalikes_do_not_match(case: str, left: dict[str, str], right: dict[str, str]) -> None:
    result = MODEL.score(prepare(left, "L"), prepare(right, "R"), STRICT)
    assert result.band != "match", f"{case}: {result.probability:.3f} {result.explanation()}"


def test_explanation_names_agreeing_disagreeing_and_missing() -> None:
    result = MODEL.score(
        prepare(
            person(
                given_name="Anna", family_name="Kowalska", dob="1984-03-02", phone="+48516437243"
            ),
            "L",
        ),
        prepare(
            person(
                given_name="Anna", family_name="Kowalska", dob="1984-03-02", phone="+48516437244"
            ),
            "R",
        ),
    )
    text = result.explanation()
    assert "name agrees" in text
    assert "phone disagrees" in text
    assert "missing:" in text
    assert sum(c.bits for c in result.contributions) != 0


def test_common_names_count_for_less() -> None:
    model = MatchModel()
    counts = {"muhammad": 5000, "ali": 3000, "wojciech": 10, "brzeczyszczykiewicz": 1}
    frequencies = Frequencies(counts, records=100_000)
    common = model.score(
        prepare({"full_name": "Muhammad Ali"}, "a"),
        prepare({"full_name": "Mohamed Ali"}, "b"),
        frequencies=frequencies,
    )
    rare = model.score(
        prepare({"full_name": "Wojciech Brzęczyszczykiewicz"}, "a"),
        prepare({"full_name": "Wojciech Brzeczyszczykiewicz"}, "b"),
        frequencies=frequencies,
    )
    assert rare.bits > common.bits + 5


def test_invalid_identifiers_are_kept_and_flagged() -> None:
    p = prepare(
        person(given_name="X", family_name="Y", iban="DE00 1234", vin="ABC", dob="31.02.1980"), "r"
    )
    assert p.identifiers["iban"] == "DE001234"
    assert p.identifiers["vin"] == "ABC"
    assert any(f.startswith("iban") for f in p.flags)
    assert any(f.startswith("vin") for f in p.flags)
    assert any(f.startswith("dob") for f in p.flags)


def test_missing_fields_carry_no_weight() -> None:
    result = MODEL.score(prepare({"full_name": "Anna Nowak"}, "a"), prepare({"dob": "1980"}, "b"))
    assert all(c.bits == 0 for c in result.contributions)


def test_deterministic() -> None:
    left = prepare(SAME_PERSON[1][1], "L")
    right = prepare(SAME_PERSON[1][2], "R")
    assert MODEL.score(left, right) == MODEL.score(left, right)


def test_thresholds_validated() -> None:
    with pytest.raises(ValueError, match="thresholds"):
        Thresholds(0.4, 0.6)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.sampled_from(["", "1980", "1980-05-06"]))
def test_scoring_never_raises(left: str, right: str, dob: str) -> None:
    result = MODEL.score(
        prepare({"full_name": left, "dob": dob}, "a"), prepare({"full_name": right}, "b")
    )
    assert 0.0 <= result.probability <= 1.0


def test_vowel_only_and_consonant_only_names() -> None:
    result = MODEL.score(
        prepare({"full_name": "Aoi Ai"}, "a"), prepare({"full_name": "Mhmd Ii"}, "b")
    )
    assert result.band == "no_match"


# One feature at a time: (case, feature, left, right, the level expected). Typing errors in
# dates, e-mails and addresses, and the look-alikes that must stay apart.
LEVEL_CASES = [
    ("year digit mistyped", "birth_date", {"dob": "1971-06-24"}, {"dob": "1961-06-24"}, "typo"),
    ("month digit mistyped", "birth_date", {"dob": "1984-03-12"}, {"dob": "1984-08-12"}, "typo"),
    ("neighbouring digits", "birth_date", {"dob": "1984-03-12"}, {"dob": "1984-03-21"}, "typo"),
    (
        "one year apart stays",
        "birth_date",
        {"dob": "1979-12-31"},
        {"dob": "1980-12-31"},
        "year_off",
    ),
    ("far digits swapped", "birth_date", {"dob": "1962-03-15"}, {"dob": "1932-06-15"}, "different"),
    ("two digits apart", "birth_date", {"dob": "1971-06-24"}, {"dob": "1961-06-25"}, "different"),
    ("partial date no typo", "birth_date", {"dob": "1971"}, {"dob": "1961-06-24"}, "different"),
    (
        "dot left out",
        "email",
        {"email": "lucas.h@harrington.com"},
        {"email": "lucash@harrington.com"},
        "typo",
    ),
    ("stray character", "email", {"email": "fb@reese.com"}, {"email": "f@b@reese.com"}, "typo"),
    (
        "letter dropped",
        "email",
        {"email": "isabelleh97@lewis.com"},
        {"email": "isabelle97@lewis.com"},
        "typo",
    ),
    (
        "same name other provider",
        "email",
        {"email": "kowalska@wp.pl"},
        {"email": "kowalska@onet.pl"},
        "close",
    ),
    (
        "numbered accounts",
        "email",
        {"email": "anna1@example.com"},
        {"email": "anna2@example.com"},
        "different",
    ),
    ("short mailboxes", "email", {"email": "ab@x.eu"}, {"email": "ac@x.eu"}, "different"),
    (
        "other name same domain",
        "email",
        {"email": "john.smith@gmail.com"},
        {"email": "jane.smith@gmail.com"},
        "different",
    ),
    (
        "national number digits swapped",
        "national_id",
        {"national_id": "9419843"},
        {"national_id": "9491843"},
        "close",
    ),
    (
        "document numbers two apart",
        "document",
        {"document_number": "YA1234567"},
        {"document_number": "YA1234765"},
        "different",
    ),
    ("same town only", "address", {"city": "London"}, {"city": "London"}, "place"),
    (
        "same street address",
        "address",
        {"address": "12 Baker Street", "city": "London"},
        {"address": "12 Baker Street", "city": "London"},
        "exact",
    ),
    ("town mistyped", "address", {"city": "London"}, {"city": "Loonon"}, "typo"),
    (
        "long town mistyped",
        "address",
        {"city": "Southampton"},
        {"city": "Suthammpton"},
        "typo",
    ),
    (
        "number differs, word mistyped",
        "address",
        {"address": "12 Baker St"},
        {"address": "14 Bakre St"},
        "close",
    ),
    (
        "house number differs",
        "address",
        {"address": "12 Baker Street"},
        {"address": "21 Baker Street"},
        "close",
    ),
    ("other town", "address", {"city": "Paris"}, {"city": "Parma"}, "different"),
    ("short words stay apart", "address", {"city": "Ely"}, {"city": "Rye"}, "different"),
]


@pytest.mark.parametrize(
    ("case", "feature", "left", "right", "level"), LEVEL_CASES, ids=[c[0] for c in LEVEL_CASES]
)
def test_feature_levels(
    case: str, feature: str, left: dict[str, str], right: dict[str, str], level: str
) -> None:
    from liaison.matching.features import FEATURES

    comparison = FEATURES[feature](prepare(left, "L"), prepare(right, "R"))
    assert comparison.level == level, f"{case}: {comparison.detail}"


def test_typing_errors_count_for_the_same_person() -> None:
    left = person(given_name="Freddie", family_name="Holmes", dob="1992-10-02", city="London")
    right = person(given_name="Freddie", family_name="Holmes", dob="1982-10-02", city="Loonon")
    result = MODEL.score(prepare(left, "L"), prepare(right, "R"), STRICT)
    assert result.band == "match", result.explanation()
    levels = {c.feature: c.level for c in result.contributions}
    assert levels["birth_date"] == "typo"
    assert levels["address"] == "typo"


def test_saved_model_of_an_earlier_version_loads() -> None:
    saved = MatchModel().to_dict()
    saved["levels"]["email"] = ["exact", "mailbox", "close", "different"]
    saved["m"]["email"] = [0.75, 0.05, 0.05, 0.15]
    saved["u"]["email"] = [1e-6, 1e-6, 1e-4, 0.999898]
    loaded = MatchModel.from_dict(saved)
    assert len(loaded.m["email"]) == 5
    assert abs(sum(loaded.m["email"]) - 1) < 1e-9
    assert loaded.m["email"][0] > loaded.m["email"][3]
    saved["levels"]["email"] = ["mailbox", "exact", "close", "different"]
    with pytest.raises(ValueError, match="levels of email"):
        MatchModel.from_dict(saved)
