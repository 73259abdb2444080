"""aiplat-gen: a validated GitOps tree for LLM inference platforms on Kubernetes."""

__version__ = "0.1.0"
