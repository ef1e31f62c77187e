"""servicedesk.queue: tasks found by name in a process that has not imported them yet."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A new process (as a new web worker is): eight threads ask for a task at once, before any
# tasks module has been imported.
FIRST_REQUESTS_AT_ONCE = """
import threading
import django
django.setup()
from servicedesk import queue
barrier = threading.Barrier(8)
missing = []
def ask():
    barrier.wait()
    try:
        queue.task_named("tickets.tasks.detect_incidents_task")
    except queue.UnknownTask:
        missing.append(1)
threads = [threading.Thread(target=ask) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(missing))
"""


def test_threads_of_a_new_process_all_find_a_task_by_name() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "servicedesk.settings"}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS_AT_ONCE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "0"
