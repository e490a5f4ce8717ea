"""The README documents every setting and the two commands."""

from __future__ import annotations

from pathlib import Path

from liaison.core.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    missing = [
        f"LIAISON_{name.upper()}"
        for name in Settings.model_fields
        if f"`LIAISON_{name.upper()}`" not in README
    ]
    assert missing == []


def test_readme_opens_with_the_two_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick_start
    assert "make test" in quick_start


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "LIAISON_REQUIRE_POSTGRES=1" in ci
    assert "LIAISON_REQUIRE_BROWSER=1" in ci
