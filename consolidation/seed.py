"""Placeholder: the synthetic legacy dataset (being written)."""
