"""Daily trajectory reports that enterprises collect from their staff."""
