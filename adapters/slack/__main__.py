"""`python -m adapters.slack [--knowledge DIR] [--config FILE] [slack flags]`.

The same as `triage-bot slack ...`; the worker supervisor starts its workers this way.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from bot.cli import default_knowledge_dir

    from .cli import run

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", type=Path, default=None)
    common.add_argument("--config", default=None)
    known, rest = common.parse_known_args(sys.argv[1:] if argv is None else argv)
    args = argparse.Namespace(knowledge=known.knowledge or default_knowledge_dir(), config=known.config, rest=rest)
    try:
        return run(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
