"""One module per command group; each registers its sub-commands and their handlers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

Handler = Callable[[argparse.Namespace], int]
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class SharedOptions:
    """Parent parsers: ``target`` (--local/--stack/--profile/--region) and ``as_json`` (--json)."""

    target: argparse.ArgumentParser
    as_json: argparse.ArgumentParser
