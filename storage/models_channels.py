"""Tables of the channels feature (model families as in storage/models.py)."""
