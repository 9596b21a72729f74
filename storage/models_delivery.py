"""Tables of the delivery feature (model families as in storage/models.py)."""
