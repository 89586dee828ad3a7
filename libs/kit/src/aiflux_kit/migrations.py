"""What every service's Alembic ``env.py`` calls."""

from __future__ import annotations

from sqlalchemy import MetaData, create_engine, pool, text


def run_env(target_metadata: MetaData) -> None:
    """Run the migrations of one service database, one migrator at a time (advisory lock)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(hashtext('aiflux_migrations'))"))
        connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext('aiflux_migrations'))"))
            connection.commit()
    engine.dispose()
