"""Tables of the areas feature (model families as in storage/models.py)."""
