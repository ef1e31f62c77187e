"""The pieces of bin/desk.py, the desk's developer command.

base       the repository's paths, DeskError, say and warn
probes     ports, URLs, whether a PostgreSQL or Redis answers, creating the database
processes  starting, supervising and stopping children; signals
services   which PostgreSQL and Redis to use, and the desk's own instances of them
commands   the environment for the children, and run, test, manage, services-check
"""
