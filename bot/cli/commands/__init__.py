"""The `outreach` command groups, one module each. A module only declares its commands and checks their
options; the work is in `bot/cli/<group>.py`, imported when the command runs, so that `outreach --help`
and the commands that do not talk to Telegram never import aiogram (~2.4 s, ~160 MB).

Every module has `register(app)`, which adds its commands (or its sub-group) to the root app.
"""
