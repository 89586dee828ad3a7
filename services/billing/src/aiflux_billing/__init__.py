"""AIFLUX billing service."""
