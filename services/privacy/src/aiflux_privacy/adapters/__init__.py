"""Adapters of the privacy service: ORM tables, repositories, clients."""
