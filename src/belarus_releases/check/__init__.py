"""Stage 1, check: read every file strictly, validate it, then the rules across files and the quotes against sources.

yaml_reader (with scalars and characters) -> schema (with rules) -> crossref -> provenance, run by dataset.
Each stage returns new results and never changes what an earlier one returned.
"""
