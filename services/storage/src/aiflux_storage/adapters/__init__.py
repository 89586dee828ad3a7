"""Adapters of the storage service: ORM tables, repositories, clients."""
