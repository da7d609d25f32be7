"""belarus-releases: validate, package and publish a hand-reviewed dataset of US–Belarus prisoner-release diplomacy."""

__version__ = "0.1.0"
