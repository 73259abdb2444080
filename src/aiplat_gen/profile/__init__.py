"""Layer 1: reading profiles: loading with positions, the extends chain, the schema models."""
