"""The benefit rules file: it loads, broken copies fail clearly, county overrides apply to one county."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from content.benefits import DEFAULT_RULES, ContentError, load_rules
from content.eligibility import evaluate, parse_profile

ROOT = Path(__file__).resolve().parents[1]
BENEFIT_IDS = [
    "tuition_waiver",
    "national_grant",
    "yulu_vocational",
    "training_subsidy",
    "skill_assessment_subsidy",
    "yulu_short_training",
    "priority_services",
    "apprenticeship_priority",
    "entrepreneurship_training",
]
OVERRIDE = """\
county: "411721"
amounts:
  training_subsidy:
    - {cny_per_year: 900, is_maximum: true, effective_from: 2018-01-01, effective_to: 2020-12-31,
       source: "test county document", mark: local}
"""


def test_shipped_rules_load() -> None:
    """The nine benefits, in order, with sources; only amounts the brief states, unknown ones null."""
    rules = load_rules()
    assert [benefit.id for benefit in rules.benefits] == BENEFIT_IDS
    assert all(benefit.source.document == "豫人社〔2017〕57号" for benefit in rules.benefits)
    for benefit in rules.benefits:
        for period in benefit.amounts:
            assert period.cny_per_year in {None, 1700, 2000, 3000}, benefit.id
            assert (period.cny_per_year is None) == (period.mark == "C")
    assert rules.amount_on("tuition_waiver", date(2017, 9, 1)).cny_per_year == 1700
    assert rules.amount_on("national_grant", date(2019, 9, 1)).years == [1, 2]
    assert rules.amount_on("yulu_vocational", date(2017, 12, 31)).cny_per_year == 2000
    assert rules.amount_on("yulu_vocational", date(2018, 1, 1)).cny_per_year == 3000
    assert rules.amount_on("yulu_vocational", date(2021, 1, 1)) is None
    assert rules.amount_on("priority_services", date(2019, 1, 1)) is None
    assert {caveat.id for caveat in rules.caveats} >= {"action_ended", "transition_period", "yulu_plus"}


def test_loading_is_cached() -> None:
    """A second load of unchanged files returns the same object."""
    assert load_rules() is load_rules()


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped rules with one change."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "benefits.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("cny_per_year: 1700", 'cny_per_year: "1700"', "benefit 'tuition_waiver': amounts[0].cny_per_year: "),
        ("cny_per_year: 1700", "cny_per_year: -1", "benefit 'tuition_waiver': amounts[0].cny_per_year: "),
        ("    apply_at:", "    apply_where:", "benefit 'tuition_waiver': apply_where: unknown field"),
        ("- plan.full_time: true", "- plan.fulltime: true", "benefit 'tuition_waiver': conditions[3]: "),
        (
            "- plan.kind: technical_school",
            "- plan.kind: college",
            "benefit 'tuition_waiver': conditions[1]: ",
        ),
        ("      - cny_per_year: null", "      - cny_per_year: 500", "benefit 'training_subsidy': amounts[0]"),
        (
            "        effective_from: 2018-01-01\n",
            "        effective_from: 2017-12-01\n",
            "benefit 'yulu_vocational': amounts[1]",
        ),
        ("    period: per_year", "    period: yearly", "benefit 'tuition_waiver': period: "),
        ("  - id: national_grant", "  - id: tuition_waiver", "benefit 'tuition_waiver': id: "),
        ("  value_yes:", "  value_si:", "texts: value_si: unknown field"),
        ('"✓ {fact}：{actual}"', '"✓ {fact}：{value}"', "texts: messages.cond_met.zh_Hans: "),
        (
            "  - id: action_ended\n    shown_from:",
            "  - id: action_ended\n    shown_since:",
            "caveat 'action_ended': ",
        ),
    ],
    ids=[
        "amount-string",
        "amount-negative",
        "unknown-key",
        "unknown-fact",
        "bad-value",
        "invented-figure",
        "overlapping-periods",
        "bad-period",
        "duplicate-id",
        "texts-key",
        "placeholder",
        "caveat-key",
    ],
)
def test_broken_copy_names_file_entry_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """A broken file raises ContentError naming the file, the entry and the field."""
    path = _broken_copy(tmp_path, old, new)
    with pytest.raises(ContentError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") or message.startswith("benefits.yaml: ")
    assert expected in message


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    """A missing file or bad YAML is a ContentError naming the file."""
    with pytest.raises(ContentError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    path = tmp_path / "bad.yaml"
    path.write_text("benefits: [", encoding="utf-8")
    with pytest.raises(ContentError, match=r"bad\.yaml: file: -: invalid YAML"):
        load_rules(path)


def test_county_override_changes_that_county_only(tmp_path: Path) -> None:
    """An override sets the amount for its county; other counties and dates keep the provincial rule."""
    (tmp_path / "411721.yaml").write_text(OVERRIDE, encoding="utf-8")
    rules = load_rules(overrides=tmp_path)
    assert rules.amount_on("training_subsidy", date(2019, 1, 1), "411721").cny_per_year == 900
    assert rules.amount_on("training_subsidy", date(2019, 1, 1), "410101").cny_per_year is None
    assert rules.amount_on("training_subsidy", date(2019, 1, 1)).cny_per_year is None
    assert rules.amount_on("training_subsidy", date(2017, 9, 1), "411721").cny_per_year is None
    assert rules.amount_on("tuition_waiver", date(2019, 1, 1), "411721").cny_per_year == 1700
    profile = parse_profile(
        {
            "household": {"registered_poor": True},
            "person": {"household_child": True},
            "plan": {"kind": "vocational_training", "school_type": "technical_school"},
        },
        date(2019, 1, 1),
    )
    local = evaluate(profile, rules, date(2019, 1, 1), county="411721").benefit("training_subsidy")
    assert (local.eligible, local.amount_cny_per_year) == (True, 900)
    assert any(reason.code == "county_override" for reason in local.reasons)
    assert (
        evaluate(profile, rules, date(2019, 1, 1), county="410101")
        .benefit("training_subsidy")
        .amount_cny_per_year
        is None
    )


def test_overrides_beside_the_rules_are_found(tmp_path: Path) -> None:
    """Without an overrides argument, overrides/ beside the rules file is read."""
    rules_path = tmp_path / "benefits.yaml"
    rules_path.write_text(DEFAULT_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "overrides").mkdir()
    (tmp_path / "overrides" / "411721.yaml").write_text(OVERRIDE, encoding="utf-8")
    assert (
        load_rules(rules_path).amount_on("training_subsidy", date(2019, 1, 1), "411721").cny_per_year == 900
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("training_subsidy:", "priority_services:", "benefit 'priority_services': amounts: "),
        ("mark: local", "mark: A", "benefit 'training_subsidy': amounts: "),
        ("cny_per_year: 900", "cny_per_year: nine", "benefit 'training_subsidy': amounts[0].cny_per_year: "),
        ("effective_to: 2020-12-31", "effective_to: 2022-12-31", "benefit 'training_subsidy': amounts[0]: "),
        ('county: "411721"', 'county: "Luoning"', "override: county: "),
        ("amounts:", "amount:", "override: amount: unknown field"),
    ],
    ids=["non-cash-benefit", "wrong-mark", "amount-text", "beyond-action", "bad-county-code", "unknown-key"],
)
def test_broken_override_names_file_entry_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """A broken override file raises ContentError naming the file, the entry and the field."""
    path = tmp_path / "411721.yaml"
    path.write_text(OVERRIDE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_rules(overrides=path)
    assert "411721.yaml: " in str(caught.value)
    assert expected in str(caught.value)


def test_content_modules_import_light_and_load_nothing() -> None:
    """content.benefits and content.eligibility import no babel/aiogram/ORM and read no file at import."""
    script = (
        "import sys, json\n"
        "import content.benefits, content.eligibility\n"
        "heavy = sorted(m for m in ('babel', 'aiogram', 'sqlalchemy', 'sqlmodel') if m in sys.modules)\n"
        "print(json.dumps({'heavy': heavy, 'loaded': content.benefits._load_cached.cache_info().currsize}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert json.loads(done.stdout) == {"heavy": [], "loaded": 0}, done.stderr


def _readme_override() -> str:
    """The override example of the README (the YAML block after the override-example marker)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    after = readme.split("<!-- override-example -->", 1)[1]
    return after.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_override_adds_a_current_amount_for_its_county_only(tmp_path: Path) -> None:
    """The README's example works as shown: a county's later document and amount, from its date on."""
    (tmp_path / "411721.yaml").write_text(_readme_override(), encoding="utf-8")
    rules = load_rules(overrides=tmp_path)
    trainee = {
        "household": {"registered_poor": True},
        "person": {"household_child": True},
        "plan": {"kind": "vocational_training", "school_type": "technical_school"},
    }
    today = date(2026, 12, 2)
    profile = parse_profile(trainee, today)
    local = evaluate(profile, rules, today, county="411721").benefit("training_subsidy")
    assert (local.state, local.amount_cny_per_year, local.eligible) == ("continued", 800, None)
    assert local.amount_source == "西平县人社〔2025〕3号"
    assert "800" in local.reasons[0].text["zh_Hans"]
    before = evaluate(profile, rules, date(2025, 2, 28), county="411721").benefit("training_subsidy")
    assert before.state == "unknown"
    elsewhere = evaluate(profile, rules, today, county="410101").benefit("training_subsidy")
    assert (elsewhere.state, elsewhere.amount_cny_per_year) == ("unknown", None)


def test_an_override_naming_an_unknown_place_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "411721.yaml").write_text(_readme_override().replace("ask: hr_office", "ask: town_hall"))
    with pytest.raises(ContentError, match="town_hall"):
        load_rules(overrides=tmp_path)
