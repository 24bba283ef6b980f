"""Contact tracing and trajectory verification: reading captured data back for a case."""
