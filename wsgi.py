"""WSGI entry point: ``gunicorn wsgi:app``, ``flask --app wsgi …``."""

from jiuzhu import create_app

app = create_app()
