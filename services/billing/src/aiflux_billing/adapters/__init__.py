"""Adapters of the billing service: ORM tables, repositories, clients."""
