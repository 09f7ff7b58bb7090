"""Follow-up registry: patients, visits, lesion measurements, assessments and an append-only audit log.

SQLAlchemy 2 models with Alembic migrations shipped inside the package; SQLite by default, PostgreSQL by URL.
"""
