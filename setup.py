"""The Alembic scripts live at the top level (`migrations/`) and install as
`app.migrations`, so `ieys migrate` works from an installed package, not only from a
checkout. Everything else is declared in pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["app", "app.*"], exclude=["*.__pycache__"]),
        "app.migrations",
        "app.migrations.versions",
    ],
    package_dir={"app.migrations": "migrations"},
)
