"""`outreach eligibility` through run_eligibility, and once as a subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli.eligibility import run_eligibility
from tests.test_benefits_content import BENEFIT_IDS  # the nine ids the issue names, in order

ROOT = Path(__file__).resolve().parents[1]
BENEFIT_KEYS = {
    "id", "state", "eligible", "form", "amount_cny_per_year", "amount_is_maximum", "amount_source",
    "reasons", "missing", "source", "ended_on", "later",
}  # fmt: skip
STUDENT = {
    "household": {"registered_poor": True},
    "plan": {
        "kind": "technical_school",
        "school_type": "technical_school",
        "full_time": True,
        "formal_enrollment": True,
    },
}


def _run(profile: Any, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
    """Run with the profile on stdin (a str is passed as it is); return code, stdout, stderr."""
    text = profile if isinstance(profile, str) else json.dumps(profile)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_eligibility("-", *args, stdin=io.StringIO(text), stdout=stdout, stderr=stderr, **kwargs)
    return code, stdout.getvalue(), stderr.getvalue()


def test_output_shape_and_stacked_total() -> None:
    """One JSON object: as_of, all nine benefits in order with their keys, the total and caveats."""
    code, out, err = _run(STUDENT, "2017-09-01")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"as_of", "county", "benefits", "annual_total_cny", "caveats", "goals", "history"}
    assert data["history"] is None  # 2017: the action runs
    assert data["as_of"] == "2017-09-01"
    assert [benefit["id"] for benefit in data["benefits"]] == BENEFIT_IDS
    assert all(set(benefit) == BENEFIT_KEYS for benefit in data["benefits"])
    tuition = data["benefits"][0]
    assert tuition["eligible"] is True
    assert (tuition["amount_cny_per_year"], tuition["amount_is_maximum"]) == (1700, True)
    assert (tuition["state"], tuition["form"]) == ("in_force", "waiver")
    assert tuition["source"] == "豫人社〔2017〕57号 四（一）"
    assert data["annual_total_cny"] == 4000  # 2000 grant + 2000 雨露计划: the waiver is not paid out
    assert all(isinstance(text, str) and text for text in tuition["reasons"] + data["caveats"])
    assert "豫人社" in out  # ensure_ascii=False
    assert out.startswith("{\n  ")  # indented by 2


def test_languages() -> None:
    """zh gives the zh_Hans texts, en the English ones."""
    _, chinese, _ = _run(STUDENT, "2017-09-01", "zh")
    _, english, _ = _run(STUDENT, "2017-09-01", "en")
    zh_reason = json.loads(chinese)["benefits"][0]["reasons"][0]
    en_reason = json.loads(english)["benefits"][0]["reasons"][0]
    assert "建档立卡贫困户" in zh_reason
    assert "registered poor household" in en_reason


def test_after_2020_the_caveat_says_the_action_ended() -> None:
    """After 2020: each benefit's state today, never "yes"; the 2017 result as history; caveats on the end."""
    _, out, _ = _run(STUDENT, "2024-09-01", "en")
    data = json.loads(out)
    states = {benefit["id"]: (benefit["state"], benefit["eligible"]) for benefit in data["benefits"]}
    assert states["yulu_vocational"] == ("continued", None)
    assert states["tuition_waiver"] == states["national_grant"] == ("unknown", None)
    assert states["priority_services"] == ("ended", False)
    assert not any(benefit["eligible"] is True for benefit in data["benefits"])
    yulu = data["benefits"][2]
    assert (yulu["later"]["document"], yulu["amount_cny_per_year"], yulu["later"]["mark"]) == (
        "国乡振发〔2022〕6号",
        3000,
        "B",
    )
    assert data["annual_total_cny"] == 0
    history = data["history"]
    assert history["as_of"] == "2020-12-31" and history["annual_total_cny"] == 5000
    assert history["benefits"][0]["eligible"] is True
    caveats = " ".join(data["caveats"])
    assert "has ended" in caveats
    assert "国乡振发〔2022〕6号" in caveats and "3,000" in caveats
    assert "county HR office" in caveats
    _, before, _ = _run(STUDENT, "2020-12-31", "en")
    assert "has ended" not in " ".join(json.loads(before)["caveats"])


def test_as_of_defaults_to_today() -> None:
    """Without --as-of the date is today."""
    from datetime import date

    _, out, _ = _run({})
    assert json.loads(out)["as_of"] == date.today().isoformat()


def test_unknown_facts_are_listed_as_missing() -> None:
    """An empty profile: every benefit unknown, with the facts still needed."""
    _, out, _ = _run({}, "2019-01-01", "en")
    tuition = json.loads(out)["benefits"][0]
    assert tuition["eligible"] is None
    assert "plan.full_time" in tuition["missing"]


@pytest.mark.parametrize(
    ("profile", "args", "expected"),
    [
        ({"person": {"agee": 30}}, (), "person.agee"),
        ({"plan": {"full_time": "yes"}}, (), "plan.full_time"),
        ({"household": {"registered_poor": 1}}, (), "household.registered_poor"),
        ({"person": {"age": 130}}, (), "person.age"),
        ({"person": {"age": -1}}, (), "person.age"),
        ({"person": {"graduation_year": 2030}}, ("2019-06-01",), "person.graduation_year"),
        ({"plan": {"study_year": 9}}, (), "plan.study_year"),
        ([1, 2], (), "profile"),
        ('{"person": ', (), "invalid JSON"),
        ({}, ("2019-02-30",), "--as-of"),
        ({}, ("yesterday",), "--as-of"),
        ({}, ("2019-01-01", "fr"), "--lang"),
    ],
    ids=[
        "unknown-field",
        "string-bool",
        "int-bool",
        "age-130",
        "age-negative",
        "future-graduation",
        "study-year-9",
        "not-an-object",
        "invalid-json",
        "bad-date",
        "not-a-date",
        "bad-lang",
    ],
)
def test_invalid_input_exits_2_with_one_line(profile: Any, args: tuple[str, ...], expected: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr naming the problem."""
    code, out, err = _run(profile, *args)
    assert (code, out) == (2, "")
    assert err.endswith("\n") and err.count("\n") == 1
    assert expected in err


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    """A missing file: exit 2 and one line naming it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    missing = tmp_path / "nope.json"
    assert run_eligibility(str(missing), "2019-01-01", stdout=stdout, stderr=stderr) == 2
    assert stderr.getvalue().count("\n") == 1
    assert str(missing) in stderr.getvalue()


def test_reads_a_file(tmp_path: Path) -> None:
    """A profile file path works like stdin."""
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(STUDENT), encoding="utf-8")
    stdout = io.StringIO()
    assert run_eligibility(str(path), "2018-09-01", "en", stdout=stdout, stderr=io.StringIO()) == 0
    assert json.loads(stdout.getvalue())["annual_total_cny"] == 5000


def test_subprocess_is_fast_and_does_not_import_aiogram() -> None:
    """As a separate process: correct output, and aiogram, typer and babel stay unimported."""
    script = (
        "import time\n"
        "start = time.perf_counter()\n"
        "import sys, io, json\n"
        "from bot.cli.eligibility import main\n"
        "sys.stdin = io.StringIO(json.dumps({'household': {'registered_poor': True}}))\n"
        "code = main(['-', '--as-of', '2019-01-01', '--lang', 'en'])\n"
        "heavy = sorted(m for m in ('aiogram', 'typer', 'babel', 'sqlalchemy') if m in sys.modules)\n"
        "seconds = time.perf_counter() - start\n"
        "print(json.dumps({'code': code, 'heavy': heavy, 'seconds': seconds}), file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert (report["code"], report["heavy"]) == (0, [])
    assert report["seconds"] < 2.0  # about 0.2 s; importing aiogram alone would cost 2.4 s
    assert len(json.loads(done.stdout)["benefits"]) == 9


def test_module_entry_point() -> None:
    """python -m bot.cli.eligibility works with stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.eligibility", "-", "--as-of", "2017-09-01"],
        cwd=ROOT,
        input=json.dumps(STUDENT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["annual_total_cny"] == 4000
