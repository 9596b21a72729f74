"""Hooks of the intake flow (see content/flows)."""
