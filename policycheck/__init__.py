"""policycheck: render Kustomize overlays and block unsafe Kubernetes manifests."""

__version__ = "0.1.0"
