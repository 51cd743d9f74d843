"""The composition root: argument parsing, building the service, choosing a front end."""
