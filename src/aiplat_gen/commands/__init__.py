"""Layer 8: one request -> result function per CLI verb."""
