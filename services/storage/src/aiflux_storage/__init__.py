"""AIFLUX storage service."""
