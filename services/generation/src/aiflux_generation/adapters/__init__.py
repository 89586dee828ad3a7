"""Adapters of the generation service: ORM tables, repositories, clients."""
