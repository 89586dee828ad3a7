"""AIFLUX generation service."""
