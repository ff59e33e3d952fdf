"""The `task-gateway` command line: help for every subcommand and option, and --version."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from gateway.cli import build_parser, main

COMMANDS = ["serve", "demo", "sandbox", "export-schema", "hash-key"]


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"task-gateway {version('task-gateway')}"


def test_the_installed_script_prints_its_version() -> None:
    script = Path(sys.executable).with_name("task-gateway")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"task-gateway {version('task-gateway')}"


def test_every_subcommand_and_option_has_help() -> None:
    parser = build_parser()
    commands = _subparsers(parser)
    assert sorted(commands.choices) == sorted(COMMANDS)
    listed = {choice.dest: choice.help for choice in commands._choices_actions}
    assert set(listed) == set(COMMANDS)
    assert all(text and text.strip() for text in listed.values())
    for name, sub in commands.choices.items():
        assert sub.description, f"{name} has no description"
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
    for action in parser._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.dest


@pytest.mark.parametrize("command", COMMANDS)
def test_each_subcommand_answers_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: task-gateway {command}")
    assert _subparsers(build_parser()).choices[command].description in " ".join(out.split())


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--version" in out
    assert all(command in out for command in COMMANDS)


def test_print_env_uses_the_public_url(capsys: pytest.CaptureFixture[str]) -> None:
    main(["sandbox", "--port", "8001", "--public-url", "http://sandbox:8001", "--print-env"])
    out = capsys.readouterr().out
    assert "export INVOICED_API_URL=http://sandbox:8001/invoiced" in out.splitlines()
    main(["sandbox", "--port", "8002", "--print-env"])
    assert "export INVOICED_API_URL=http://127.0.0.1:8002/invoiced" in capsys.readouterr().out
