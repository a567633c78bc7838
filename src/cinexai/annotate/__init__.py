"""Blind expert annotation platform (paper section 3.5): bundle, store, web app, CLI.

``bundle`` writes the blinded cases of a run, ``db`` is the SQLite store (reviewers, sessions,
per-reviewer work, audit), ``app`` the FastAPI server and ``cli`` the ``cinexai annotate`` command.
"""
