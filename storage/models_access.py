"""Tables of the access feature (model families as in storage/models.py)."""
