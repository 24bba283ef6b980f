"""Sites: road checkpoints, temporary intersections, gates and venues, and their devices."""
