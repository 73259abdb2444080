"""Layer 5: the output tree: where each rendered thing lives, and writing it safely."""
