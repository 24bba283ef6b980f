"""The early-warning platform: risk areas, the rules registry, alerts and their queue."""
