"""`python -m app ...` is `triage-bot ...`; the Slack worker supervisor starts its workers this way."""
import sys

from .cli import main

sys.exit(main())
