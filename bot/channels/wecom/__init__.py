"""The WeCom channels: the county's self-built app (work teams, HR) and 微信客服 (households).

crypto.py (callback signature and AES), envelope.py (XML), api.py (the HTTP API client),
render.py (replies as texts, template cards and menus), inbound.py (callbacks as engine
inputs), outbox.py (sends after the callback is acknowledged), app.py and kf.py (the two
channels), server.py (the aiohttp routes). It imports no other channel and never aiogram.
"""
