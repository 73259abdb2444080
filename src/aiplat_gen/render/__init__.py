"""Layer 4: turning a validated profile into Kubernetes objects and Helm values."""
