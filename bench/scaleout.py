"""The scale-out drill as a benchmark: faults/drill_g_scale_out.py (two gunicorn web machines,
two Celery workers and one beat on one private PostgreSQL and Redis, 8 clients pushing
`--mentions` mentions) run through faults.run's time bound and teardown; prints the verdict
and writes its figures to bench/results/<--json>.

    .venv/bin/python -m bench.scaleout [--mentions 50000] [--json scaleout.json]
"""

import argparse
import sys

from bench.common import load_average, write_json
from faults import drill_g_scale_out as drill
from faults.run import run_drill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=drill.MENTIONS)
    parser.add_argument("--json", default="scaleout.json", help="file name under bench/results")
    options = parser.parse_args(argv)
    if options.mentions < drill.CLIENTS * drill.BATCH:
        parser.error(f"--mentions must be at least {drill.CLIENTS * drill.BATCH}")
    drill.MENTIONS = options.mentions
    load_before = load_average()
    verdict = run_drill(drill)
    print(verdict.line(), flush=True)
    result = {
        **verdict.as_json(),
        "mentions": drill.MENTIONS // drill.CLIENTS * drill.CLIENTS,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print(f"written to {write_json(options.json, result)}")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
