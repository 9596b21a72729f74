"""Tables of the followup feature (model families as in storage/models.py)."""
