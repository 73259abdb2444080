"""Layer 2: what the platform is, resolved from a valid profile: fact tables, engines, capacity,
the service graph."""
