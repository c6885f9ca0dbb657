"""The archive portal: web pages and REST API for clients, staff and accountants.

``create_app`` (in :mod:`.app`) builds the FastAPI application; :mod:`.access` holds the tenant
isolation, :mod:`.search` the full-text search, :mod:`.auth` sessions and tokens.
"""
