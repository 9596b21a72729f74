"""Tables of the WeCom channel (model families as in storage/models.py)."""
