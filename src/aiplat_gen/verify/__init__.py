"""Layer 7: proving the output against real tools: kubeconform, kustomize and a Kubernetes
control plane."""
