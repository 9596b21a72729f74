"""Tables of the trust feature (model families as in storage/models.py)."""
