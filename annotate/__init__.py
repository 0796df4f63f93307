"""annotate: compare public statements: themes, phrase reuse, annotation, TEI P5."""

__version__ = "0.1.0"
