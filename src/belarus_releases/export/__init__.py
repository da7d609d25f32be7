"""Stage 2, export: checked records -> tables (flatten) -> files, SQLite, datapackage.json -> one atomic publish."""
