"""WeCom settings: all or none of a channel's, each malformed one a one-line error naming it."""

from __future__ import annotations

import pytest

from bot.core.settings import SettingsError, load_settings

AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APP = {"wecom_corp_id": "ww0123", "wecom_agent_id": 1000002, "wecom_app_secret": "s" * 43,
       "wecom_callback_token": "Token42", "wecom_callback_aes_key": AES_KEY}  # fmt: skip


def test_nothing_set_means_no_wecom_channel():
    settings = load_settings()
    assert not settings.wecom_app_enabled() and not settings.wecom_kf_enabled()


def test_the_app_and_kf_together_or_alone():
    assert load_settings(**APP).wecom_app_enabled()
    both = load_settings(**APP, wecom_kf_secret="k" * 43, wecom_kf_open_kfid="wkABC-123")
    assert both.wecom_app_enabled() and both.wecom_kf_enabled()
    kf_only = {k: v for k, v in APP.items() if k not in ("wecom_agent_id", "wecom_app_secret")}
    alone = load_settings(**kf_only, wecom_kf_secret="k" * 43, wecom_kf_open_kfid="wkABC")
    assert alone.wecom_kf_enabled() and not alone.wecom_app_enabled()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({**APP, "wecom_app_secret": None}, "WECOM_APP_SECRET"),
        ({k: v for k, v in APP.items() if k != "wecom_callback_token"}, "WECOM_CALLBACK_TOKEN"),
        ({"wecom_kf_secret": "k" * 43, "wecom_kf_open_kfid": "wkABC"}, "WECOM_CORP_ID"),
        ({"wecom_kf_secret": "k" * 43}, "WECOM_KF_OPEN_KFID"),
    ],
)
def test_a_partial_channel_names_the_missing_setting(overrides, named):
    with pytest.raises(SettingsError, match=named) as error:
        settings = load_settings(**overrides)
        settings.wecom_app_enabled()
        settings.wecom_kf_enabled()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("wecom_callback_aes_key", "too-short"), ("wecom_corp_id", "ww 01"), ("wecom_api_url", "ftp://x"),
     ("wecom_kf_open_kfid", "wk/../x"), ("wecom_agent_id", "0")],
)  # fmt: skip
def test_malformed_values_are_one_line_errors(name, value):
    with pytest.raises(SettingsError, match=name.upper()) as error:
        load_settings(**{name: value})
    assert "\n" not in str(error.value)


def test_forked_workers_with_wecom_are_refused_in_one_line_that_says_what_to_do():
    from bot.cli.run import run_command

    settings = load_settings(**APP, database_url="postgresql://postgres@127.0.0.1:5432/test")
    with pytest.raises(SettingsError) as error:
        run_command(settings, webhook=True, workers=2)
    assert "\n" not in str(error.value) and "several `outreach run` processes" in str(error.value)


def test_the_app_shows_choices_as_cards_unless_set_to_numbered_text():
    assert load_settings(**APP).wecom_app_choices == "cards"
    assert load_settings(**APP, wecom_app_choices="text").wecom_app_choices == "text"
    with pytest.raises(SettingsError, match="WECOM_APP_CHOICES"):
        load_settings(**APP, wecom_app_choices="pictures")
