.PHONY: run test lint openapi bench

run:
	python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/ieys serve --demo

test:
	python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]" && .venv/bin/pytest

lint:
	.venv/bin/ruff check app tests bench migrations && .venv/bin/ruff format --check app tests bench && .venv/bin/mypy app

openapi:
	.venv/bin/python -m app.openapi

bench:
	.venv/bin/python bench/people_read.py
