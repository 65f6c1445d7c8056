"""What a request passes through before it is executed: persisted queries, limits, cost budgets."""
