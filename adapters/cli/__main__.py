"""`python -m adapters.cli ...` is `triage-bot ...`; the Slack worker supervisor starts its workers this way."""
import sys

from .main import main

sys.exit(main())
