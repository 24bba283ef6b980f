"""In-app notices and the notifier interface (in-app, webhook gateways)."""
