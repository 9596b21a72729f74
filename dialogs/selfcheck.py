"""Hooks of the selfcheck flow (see content/flows)."""
