"""The web channel: a chat page any phone can open (/c/) and the county HR console (/console/).

Served by the bot's own aiohttp application (see bot.cli.run): `add_routes(app, services, settings)`
in bot.channels.web.app adds every route, the static files and the security headers. Templates and
static files live in this package; nothing is loaded from elsewhere (no CDN). This package imports
no other channel and never aiogram.
"""
