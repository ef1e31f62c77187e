"""Fault-tolerance drills: real processes (gunicorn, Celery worker and beat) on private
PostgreSQL and Redis instances, faults injected from outside, one verdict per drill.

Run them with `.venv/bin/python -m faults.run [drill ...]` (see faults/run.py and
docs/reliability.md). They are not part of the pytest suite: each takes minutes.
"""
