"""Governance triage bot: the platform-neutral core.

The flow reads top to bottom: text -> normalise -> match -> Verdict -> Reply.
Nothing in this package imports a chat SDK; adapters/ translate platforms to these types.
"""
