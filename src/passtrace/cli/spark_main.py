"""The file to hand to spark-submit: `spark-submit … spark_main.py analytics JOB …`.

It runs the same CLI (and so the same Ibis job code); spark-submit has already set the
master and the cluster's configuration, which the SparkSession picks up.
"""

from __future__ import annotations

if __name__ == "__main__":
    from passtrace.cli.main import app

    app(prog_name="passtrace")
