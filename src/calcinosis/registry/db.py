"""Engine, database location and migrations of the registry.

SQLite is the embedded default: ``registry.sqlite`` in the user's data folder (``CALCINOSIS_DATA_DIR``,
else ``$XDG_DATA_HOME/calcinosis``, else ``~/.local/share/calcinosis``), opened in WAL mode with a busy
timeout and ``BEGIN IMMEDIATE`` transactions. PostgreSQL works through the same code with a
``postgresql+psycopg://`` URL. Alembic migrations ship inside the package and run programmatically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from calcinosis.errors import InputError, require
from calcinosis.registry.errors import RegistryNotReadyError

SQLITE_BUSY_MS = 30_000
URL_ENV = "CALCINOSIS_REGISTRY_URL"
WRITE_OPTION = "calcinosis_registry_write"


def data_dir() -> Path:
    """The user's data folder for calcinosis (honours CALCINOSIS_DATA_DIR, then XDG_DATA_HOME)."""
    env = os.environ.get("CALCINOSIS_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "calcinosis"


def default_url() -> str:
    env = os.environ.get(URL_ENV)
    if env:
        return env
    return f"sqlite:///{data_dir() / 'registry.sqlite'}"


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    sa = require("sqlalchemy", "registry")
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _sqlite_setup(engine: Any) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # writers take the write lock at BEGIN: a deferred transaction that later upgrades can fail with
        # SQLITE_BUSY without waiting for the busy timeout. Readers begin deferred (WAL: they never block).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def make_engine(url: str | None = None) -> Any:
    """Create an engine for ``url`` (default: the SQLite file in the data folder)."""
    sa = require("sqlalchemy", "registry")
    url = url or default_url()
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:
        raise InputError(f"not a database URL ({exc})", where="--db", code="BAD_DB_URL",
                         hint="e.g. sqlite:////path/registry.sqlite or postgresql+psycopg://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        _sqlite_setup(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise InputError("use the psycopg driver: postgresql+psycopg://...", where="--db", code="BAD_DB_URL")
        require("psycopg", "registry")
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise InputError(f"unsupported database {backend!r}", where="--db", code="BAD_DB_URL",
                     hint="use sqlite:///FILE or postgresql+psycopg://...")


def write_engine(engine: Any) -> Any:
    """The engine as used by writers (on SQLite: transactions begin IMMEDIATE)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _alembic_config(connection: Any) -> Any:
    config_mod = require("alembic.config", "registry")
    cfg = config_mod.Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    script = require("alembic.script", "registry")
    cfg = _alembic_config(None)
    return script.ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: Any) -> str | None:
    migration = require("alembic.runtime.migration", "registry")
    with engine.connect() as conn:
        return migration.MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Any) -> str:
    """Upgrade the database to the head revision; returns it."""
    command = require("alembic.command", "registry")
    with write_engine(engine).begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    return head_revision()


def check_ready(engine: Any) -> None:
    """Refuse a database that is not migrated to head, with a clear message."""
    sa = require("sqlalchemy", "registry")
    try:
        rev = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise RegistryNotReadyError(f"cannot open the registry database: {exc.orig}",
                                    where=safe_url(str(engine.url)),
                                    hint="check --db, or run: calcinosis registry init") from None
    head = head_revision()
    if rev != head:
        state = "not initialised" if rev is None else f"at schema {rev}, this version needs {head}"
        raise RegistryNotReadyError(f"the registry database is {state}",
                                    where=safe_url(str(engine.url)),
                                    hint="run: calcinosis registry init --db URL (it upgrades to the current schema)")
