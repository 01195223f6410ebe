"""A command's ``--help`` in the language it prints its errors in: the description and each option's help from the
label table (``cli_<command>_description``, ``cli_<command>_<option>``), in the language of ``--lang`` when the command
line gives it, else of the terminal's locale (helpers.errors.cli_language). Argparse's own words (usage:, options:)
are its own.
"""
from __future__ import annotations

import argparse
import sys

from helpers.errors import cli_language
from helpers.labels import LANGUAGES, t


def help_language(argv: list[str] | None = None) -> str:
    """The language of a command's help: the value of ``--lang`` (``--lang ja``, ``--lang=ja``) in `argv` (default:
    sys.argv) when it is en or ja, else the locale's (helpers.errors.cli_language)."""
    args = list(sys.argv[1:] if argv is None else argv)
    stated = None
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            stated = args[i + 1]
        elif arg.startswith("--lang="):
            stated = arg.partition("=")[2]
    return cli_language(stated if stated in LANGUAGES else None)


class HelpText:
    """The help texts of one command (`command`: the label keys' middle part) in `lang`."""

    def __init__(self, command: str, lang: str):
        self.command, self.lang = command, lang

    def __call__(self, option: str, **params) -> str:
        """The help of `option` (label ``cli_<command>_<option>``), its placeholders filled from `params`; argparse's
        own % placeholders (``%(default)s``) are escaped, so a text is shown as written."""
        return t(f"cli_{self.command}_{option}", self.lang).format(**params).replace("%", "%%")

    def parser(self, prog: str) -> argparse.ArgumentParser:
        """An ArgumentParser named `prog` with the command's description and a -h/--help said in `lang`."""
        parser = argparse.ArgumentParser(prog=prog, description=t(f"cli_{self.command}_description", self.lang), add_help=False)
        parser.add_argument("-h", "--help", action="help", help=t("cli_help", self.lang))
        return parser
