"""AIFLUX identity service."""
