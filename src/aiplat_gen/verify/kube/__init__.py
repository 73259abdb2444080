"""Offline Kubernetes validation: schemas prepared for kubeconform and the kubeconform runner."""
