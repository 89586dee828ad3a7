"""AIFLUX runner."""
