"""CLI commands by area; each module has `register(app)` and imports its core lazily."""
