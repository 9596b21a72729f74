"""Hooks of the areas flow (see content/flows)."""
