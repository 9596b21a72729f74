"""Every table of the application: importing this fills SQLModel.metadata (migrations, tests)."""

from storage import models, models_access, models_delivery, models_followup

__all__ = ["models", "models_access", "models_delivery", "models_followup"]
