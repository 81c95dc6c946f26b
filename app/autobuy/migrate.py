"""Apply the MySQL migrations: ``python -m autobuy.migrate [upgrade|downgrade] [REVISION]``.

The deployment runs ``python -m autobuy.migrate upgrade head`` in the image with the
same environment as the API before starting the new containers.
"""
from __future__ import annotations

import argparse
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("autobuy") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def run(engine: Engine, action: str, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        if action == "upgrade":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autobuy.migrate", description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)
    from autobuy.config import load_settings
    from autobuy.db import make_engine

    run(make_engine(load_settings(), migrations=True), args.action, args.revision)


if __name__ == "__main__":
    main()
