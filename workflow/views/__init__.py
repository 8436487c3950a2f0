"""Read models (views) shared by the CLI and the API."""
