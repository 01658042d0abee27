"""ArgumentParser for every command line of the project: option values may start with ``-``.

Board ids and tokens are url-safe base64 and can start with ``-`` (``-AbC…``). Stock argparse
reads ``--board -AbC`` as two options and fails with "expected one argument"; GNU getopt, and
users, read the word after an option that takes a value as that value. This parser does the
same: before parsing, ``--board -AbC`` becomes ``--board=-AbC`` for every option that takes
exactly one value (``--board=-AbC`` works as it is). ``--`` ends the options as usual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose one-value options accept values starting with ``-``."""

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None):
        argv = sys.argv[1:] if args is None else list(args)
        # ``_actions`` is argparse's list of every added argument, groups included (the same
        # since Python 2.7); tests/test_cli_args.py runs every script through this parser.
        options = {option: action.nargs is None for action in self._actions
                   for option in action.option_strings}
        return super().parse_known_args(join_option_values(argv, options), namespace)


def join_option_values(argv: Sequence[str], options: dict[str, bool]) -> list[str]:
    """``argv`` with each ``OPTION VALUE`` pair whose VALUE starts with ``-`` written as
    ``OPTION=VALUE``, for the options that take one value (``options[name]`` true). A VALUE
    that is itself one of ``options`` stays an option (a forgotten value is still reported)."""
    joined: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            joined.extend(argv[index:])
            break
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if options.get(word) and following.startswith("-") and following != "--" \
                and following not in options:
            joined.append(f"{word}={following}")
            index += 2
            continue
        joined.append(word)
        index += 1
    return joined
