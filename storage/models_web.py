"""Tables of the web feature (model families as in storage/models.py)."""
