"""`triage-bot report`: batch triage of exported chat history, for ethics leads.

readers (slack, discord, jsonl, chosen by detect) -> pipeline (batches to worker processes,
work.py triages) -> tally -> summary.json, html.py's report.html.
"""
