"""Run one bench step in a fresh Odoo process and print its figures as one JSON line.

    python bench/child.py <odoo.conf> <database> <step> [json arguments]

A step is a function of ``bench/steps.py`` taking ``(env, **arguments)``; it returns a dict of
extra figures, or a list of such dicts when it measures several things. The wall time, the SQL
query count (Odoo's global ``sql_db.sql_counter``) and the peak RSS growth over the loaded,
idle registry are measured here around the step, unless the step measures its own parts.
"""

import json
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

RESULT_MARK = "BENCH-RESULT "


def rss_mb():
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    conf, dbname, step = sys.argv[1:4]
    arguments = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", conf, "-d", dbname, "--log-level=warn", "--no-http"])
    registry = Registry(dbname)
    import steps

    function = getattr(steps, step)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tz": "UTC"})
        # Fields and views the step touches load lazily; read a record so that the baseline is
        # a registry that has served a request, not a bare import.
        env["res.partner"].search([], limit=1).read(["name"])
        baseline = rss_mb()
        queries = odoo.sql_db.sql_counter
        start = time.perf_counter()
        try:
            extra = function(env, **arguments)
            error = None
        except Exception as exc:  # the parent records the failure as an error row
            cr.rollback()
            extra, error = None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        elapsed = time.perf_counter() - start
        result = {
            "seconds": elapsed,
            "queries": odoo.sql_db.sql_counter - queries,
            "rss_growth_mb": rss_mb() - baseline,
            "rss_baseline_mb": baseline,
            "error": error,
            "extra": extra,
        }
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
