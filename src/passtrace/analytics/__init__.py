"""Population analytics: a pseudonymised Parquet lake and one Ibis job per question.

The lake (analytics.lake) is exported from the transactional database; the jobs
(analytics.queries) read only the lake, on DuckDB (embedded) or Spark, never the web
or the OLTP session. See docs/lake.md and docs/analytics.md.
"""
