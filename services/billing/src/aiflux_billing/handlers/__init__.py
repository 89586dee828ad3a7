"""Handlers of the billing service: transport-agnostic, each in one transaction."""
