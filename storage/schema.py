"""Every table of the application: importing this fills SQLModel.metadata (migrations, tests)."""

from storage import (
    models,
    models_access,
    models_areas,
    models_channels,
    models_delivery,
    models_followup,
    models_trust,
    models_web,
    models_wecom,
)

__all__ = [
    "models",
    "models_access",
    "models_areas",
    "models_channels",
    "models_delivery",
    "models_followup",
    "models_trust",
    "models_web",
    "models_wecom",
]
