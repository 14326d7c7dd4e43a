"""The Alembic configuration, built in code: the same from a checkout and from an
installed package (the scripts in `migrations/` install as `app.migrations`), so
`ieys migrate` needs no alembic.ini and no source tree."""

from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config

FILE_TEMPLATE = "%(year)d-%(month).2d-%(day).2d_%(slug)s"
"""Dated revision files (STYLE.md), as alembic.ini names them for `alembic revision`."""


def script_location() -> Path:
    spec = find_spec("app.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the app.migrations package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
