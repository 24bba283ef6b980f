"""The Parquet lake: what is exported (tables), how (export) and how it is read (read)."""
