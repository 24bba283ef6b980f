"""Smart community entry/exit: compounds, households, residents, outings, visitors."""
