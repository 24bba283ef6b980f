"""The command dashboard: counts for the city and each district, scoped to the viewer."""
