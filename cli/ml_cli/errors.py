"""The two ways a command fails; ``main`` prints them as one line and exits with their code."""

from __future__ import annotations

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class CliError(Exception):
    """``lines``: what failed, one line each (e.g. one per invalid field)."""

    exit_code = EXIT_FAILED

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class BadInput(CliError):
    """What the operator gave is wrong (a file, an id, a target): exit 2."""

    exit_code = EXIT_BAD_INPUT


class OperationFailed(CliError):
    """The input was fine but the operation did not succeed: exit 1."""

    exit_code = EXIT_FAILED
