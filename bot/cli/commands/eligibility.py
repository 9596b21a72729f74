"""`outreach eligibility`: which benefits a household profile qualifies for, as JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import checks, common


def register(app: typer.Typer) -> None:
    """Add `eligibility` to the root app."""
    app.command("eligibility")(eligibility)


def eligibility(
    profile: Annotated[str, typer.Argument(help="PROFILE.json, or - for standard input")] = "-",
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default today")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    county: Annotated[str | None, typer.Option(help="county code, for amounts a county overrides")] = None,
) -> None:
    """Print, as JSON, which benefits a household profile qualifies for, with amounts and reasons.

    The profile is one JSON object with up to three sections; every fact may be left out (unknown),
    and then the benefits that depend on it come back with "eligible": null and the fact in "missing".
    A benefit with "eligible": false carries no amount.

    \b
    {"household": {"registered_poor": true,        建档立卡 (a 脱贫户 counts too)
                   "rural": true},                 rural household registration
     "person":    {"age": 16,                      0 to 120
                   "able_to_work": true,
                   "household_child": true,        a child (子女) of the household, for 四（三）
                   "education": "junior_high_graduate",
                                 (junior_high_graduate, senior_high_graduate, in_school, other)
                   "continued_study": false,       went on to senior high school or university
                   "graduation_year": 2026},       1950 to this year
     "plan":      {"kind": "technical_school",
                   (technical_school, vocational_training, short_training, training = not sure which,
                    apprenticeship, entrepreneurship)
                   "school_type": "technical_school",   (technical_school, vocational_high, other)
                   "full_time": true, "formal_enrollment": true,
                   "study_year": 1,                1 to 6
                   "employed_at_pilot_firm": false,
                   "has_business_project": false}}

    \b
    Example:  echo '{"person": {"age": 16}, "plan": {"kind": "technical_school"}}' | outreach eligibility -
    """
    from bot.cli.eligibility import run_eligibility

    checks.language(lang)
    if county is not None:
        county = checks.area(common.settings_and_db()[1], county, "county")
    raise typer.Exit(run_eligibility(profile, as_of=as_of, lang=lang, county=county))
