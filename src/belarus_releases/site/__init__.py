"""Stage 3, site: the Datasette plugin (registered by entry point), its settings, templates and static files."""
