"""Front ends: each translates one platform's payloads into the core's types and renders
the core's answers in that platform's idiom. No triage logic lives here.

`contract.py` says what a front end implements and declares (its `Platform`); `health.py`
and `runtime.py` are the pieces every chat front end shares; `cli/` is the composition root.
"""
