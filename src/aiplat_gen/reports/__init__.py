"""Layer 6: what the tool tells people: plans, summaries, graphs, console output."""
