"""AIFLUX privacy service."""
