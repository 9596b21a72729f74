"""The county HR side, free of any channel: chat commands and follow-up buttons (router.py, through an
HrChat a channel implements, chat.py), household notices (notices.py), reminders; tables for the CLI."""
