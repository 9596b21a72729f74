"""The county HR side: chat commands, follow-up buttons, reminders; tables for the CLI (tables.py)."""
