"""Tables of the areas feature (model families as in storage/models.py).

The area table itself is `storage.models.Area`; migration 0008 gave it `short_name` and `retired`.
"""
