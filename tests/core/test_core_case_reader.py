"""The case reader: words people write for unknown, yes/no and lab flags are read, not refused."""

from __future__ import annotations

import pytest

from calcinosis.errors import InputError
from calcinosis.io.case import read_case


def base(**kw):
    return {"format": "calcinosis-case/1", "id": "x", **kw}


@pytest.mark.parametrize("word,expected", [("elevated", "high"), ("raised", "high"), ("decreased", "low"),
                                           ("within normal limits", "normal"), ("not detected", "negative"),
                                           ("not reported", None)])
def test_lab_flag_synonyms(word, expected):
    f = read_case(base(labs=[{"analyte": "calcium", "reported_as": word}]), "t.json")
    assert f.labs[0].reported_as == expected


@pytest.mark.parametrize("value,expected", [("yes", True), ("no", False), ("unknown", None), ("n/a", None)])
def test_yes_no_unknown_words(value, expected):
    assert read_case(base(painful=value), "t.json").lesion.painful is expected


def test_unknown_sex_words_and_a_refused_one():
    assert read_case(base(sex="not stated"), "t.json").sex is None
    assert read_case(base(sex="F"), "t.json").sex == "female"
    with pytest.raises(InputError) as exc:
        read_case(base(sex="robot"), "t.json")
    assert exc.value.issues[0].where == "t.json: sex"


def test_onset_after_presentation_is_kept():
    # lesions may appear during follow-up: not an impossible value
    f = read_case(base(age_months=1, onset_age_months=2), "t.json")
    assert f.onset_age_days > f.age_days


def test_every_problem_is_reported_at_once():
    with pytest.raises(InputError) as exc:
        read_case(base(age_months=-1, sex="robot", painful="maybe", labs="lots"), "t.json")
    wheres = {i.where for i in exc.value.issues}
    assert wheres == {"t.json: age_months", "t.json: sex", "t.json: painful", "t.json: labs"}


@pytest.mark.parametrize("text, days", [
    ("a 10-day-old", 10.0), ("aged 3 years", 3 * 365.25), ("8 meses", 8 * 30.4375), ("14-month-old", 14 * 30.4375),
    ("2 años de edad (2-year-old girl)", 2 * 365.25), ("recém-nascido (newborn)", 14.0), ("27 d", 27.0),
])
def test_age_is_read_from_age_text_when_age_months_is_null(text, days):
    from calcinosis.io.case import read_case

    f = read_case({"format": "calcinosis-case/1", "id": "t", "age_months": None, "age_text": text}, "t.json")
    assert f.age_days == pytest.approx(days)
    assert any("age read from age_text" in n for n in f.notes)


@pytest.mark.parametrize("text", ["child", "boy in middle childhood", "2 y 3 months", "infant (identical twin)"])
def test_an_age_text_without_one_clear_age_leaves_the_age_unknown(text):
    from calcinosis.io.case import read_case

    f = read_case({"format": "calcinosis-case/1", "id": "t", "age_months": None, "age_text": text}, "t.json")
    assert f.age_days is None and f.notes == ()


def test_age_months_wins_over_age_text():
    from calcinosis.io.case import read_case

    f = read_case({"format": "calcinosis-case/1", "id": "t", "age_months": 7, "age_text": "a 10-day-old"}, "t.json")
    assert f.age_days == pytest.approx(7 * 30.4375) and f.notes == ()
