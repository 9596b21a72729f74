"""`outreach eligibility`: evaluate a profile (JSON) against the benefit rules and print JSON.

Kept free of typer and aiogram so it starts fast; the content modules are imported only when run.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any, TextIO

LANGUAGES = {"zh": "zh_Hans", "zh_Hans": "zh_Hans", "en": "en"}
EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def run_eligibility(
    profile_path: str = "-",
    as_of: str | None = None,
    lang: str = "zh",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    county: str | None = None,
) -> int:
    """Print the evaluation of the profile at `profile_path` ("-" = stdin) as JSON; return the exit code."""
    from content.errors import ContentError

    stderr = stderr or sys.stderr
    try:
        output = _evaluate_to_json(profile_path, as_of, lang, stdin or sys.stdin, county)
    except _UsageError as exc:
        print(f"error: {_one_line(str(exc))}", file=stderr)
        return EXIT_USAGE
    except ContentError as exc:
        print(f"content error: {_one_line(str(exc))}", file=stderr)
        return EXIT_CONTENT
    json.dump(output, stdout or sys.stdout, ensure_ascii=False, indent=2)
    (stdout or sys.stdout).write("\n")
    return EXIT_OK


def _evaluate_to_json(
    profile_path: str, as_of: str | None, lang: str, stdin: TextIO, county: str | None
) -> dict[str, Any]:
    """Read, validate and evaluate; raise _UsageError for bad input."""
    from content.benefits import load_rules
    from content.eligibility import ProfileError, evaluate, parse_profile

    day = _parse_date(as_of)
    language = LANGUAGES.get(lang)
    if language is None:
        raise _UsageError(f"--lang: expected zh or en, got {lang!r}")
    data = _read_json(profile_path, stdin)
    try:
        result = evaluate(parse_profile(data, day), load_rules(), day, county)
    except ProfileError as exc:
        raise _UsageError(f"invalid profile: {exc}") from None
    return _as_json(result, language)


def _parse_date(as_of: str | None) -> date:
    """--as-of as a date; today when not given."""
    if as_of is None:
        return date.today()
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        raise _UsageError(f"--as-of: expected a date YYYY-MM-DD, got {as_of!r}") from None


def _read_json(profile_path: str, stdin: TextIO) -> Any:
    """The profile's JSON from a file or stdin."""
    name = "stdin" if profile_path == "-" else profile_path
    try:
        if profile_path == "-":
            text = stdin.read()
        else:
            with open(profile_path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise _UsageError(f"{name}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _UsageError(f"{name}: cannot read: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(
            f"{name}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def _as_json(result: Any, language: str) -> dict[str, Any]:
    """The documented output object (README, "The eligibility JSON"), texts in one language."""
    from content.eligibility_json import result_json

    return result_json(result, language)


def _one_line(text: str) -> str:
    """Collapse whitespace so an error is exactly one line."""
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: outreach eligibility [PROFILE.json|-] [--as-of YYYY-MM-DD] [--lang zh|en]."""
    parser = argparse.ArgumentParser(prog="outreach eligibility", description=main.__doc__)
    parser.add_argument("profile", nargs="?", default="-", help="profile JSON file, or - for stdin")
    parser.add_argument("--as-of", default=None, help="date YYYY-MM-DD (default: today)")
    parser.add_argument("--lang", default="zh", help="zh or en")
    parser.add_argument("--county", default=None, help="6-digit county code for local amounts")
    args = parser.parse_args(argv)
    return run_eligibility(args.profile, args.as_of, args.lang, county=args.county)


if __name__ == "__main__":
    sys.exit(main())
