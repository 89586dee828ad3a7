"""Adapters of the identity service: ORM tables, repositories, clients."""
