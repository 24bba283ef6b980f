"""Health status: flags raised by rules or by hand, the green/yellow/red they add up to."""
