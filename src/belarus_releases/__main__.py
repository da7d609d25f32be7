from belarus_releases.cli import cli

cli(prog_name="belarus-releases")
