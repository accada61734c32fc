"""Pulumi ComponentResources, one per backend; each turns a plan and rendered files into provider resources."""
