"""Issue 22, item 7: every subcommand's --help has a description and its exit codes, and
the top-level help says what running no command does (opens the dashboard)."""

from __future__ import annotations

import contextlib
import io

import pytest

from tui.cli import COMMANDS, build_parser


def _help(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    return out.getvalue()


def test_top_level_help_says_no_command_opens_the_dashboard() -> None:
    text = " ".join(_help().split())
    assert "With no command, it opens the dashboard" in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_has_a_description_and_exit_codes(command: str) -> None:
    text = _help(command)
    description = " ".join(COMMANDS[command][0].split()[:4])
    assert description in " ".join(text.split()), text
    assert "exit codes:" in text, text
    codes = text.split("exit codes:", 1)[1]
    assert codes.strip().startswith(("0", "0-10")), codes


def test_run_lists_the_runners_own_codes() -> None:
    codes = _help("run").split("exit codes:", 1)[1]
    for code in ("0-10", "64", "75", "78", "79", "124", "128+N"):
        assert f"\n  {code} " in codes, codes
