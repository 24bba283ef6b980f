"""Medical-supply assurance: items, lots, depots and the stock ledger (issue 16)."""
