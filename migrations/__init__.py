"""Alembic revisions, shipped inside the distribution so that any install can migrate its own database."""
