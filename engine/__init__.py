"""crmsync engine: settings, reconciler, state store, budget, connectors and runtime."""
