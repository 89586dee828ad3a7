"""AIFLUX platform kit."""
