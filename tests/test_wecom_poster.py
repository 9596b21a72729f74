"""Posters on WeCom: the 微信客服 link with scene_param, scanned, opens the intake at the village."""

from __future__ import annotations

import asyncio
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.cli.poster import PosterRequest, poster_command
from bot.features.poster import PosterError, village_link
from tests.area_support import ZHOUCHANG
from tests.fakewecom import FakeWeCom
from tests.test_poster import needs_font, needs_tools
from tests.wecom_harness import Customer, texts, wecom_bot, wecom_settings

KF_LINK = "https://work.weixin.qq.com/kfid/kfc0123456789abcdef"


def test_the_wecom_link_carries_the_village_as_scene_param():
    link = village_link("wecom", ZHOUCHANG, {"wecom_kf_link": KF_LINK})
    assert link == f"{KF_LINK}?scene_param=v_{ZHOUCHANG}"
    with_query = village_link("wecom", ZHOUCHANG, {"wecom_kf_link": KF_LINK + "?enc_scene=ENCabc"})
    assert with_query.endswith(f"?enc_scene=ENCabc&scene_param=v_{ZHOUCHANG}")
    with pytest.raises(PosterError, match="WECOM_KF_LINK"):
        village_link("wecom", ZHOUCHANG, {})
    with pytest.raises(PosterError, match="unchanged"):
        village_link("wecom", ZHOUCHANG, {"wecom_kf_link": "http://example.invalid/kf"})


@needs_font
@needs_tools
async def test_a_scanned_poster_opens_the_intake_at_its_village(tmp_path):
    out = tmp_path / "posters.pdf"
    request = PosterRequest(
        out=out, areas={"village": ZHOUCHANG}, channel="wecom", options={"wecom_kf_link": KF_LINK}
    )
    assert await asyncio.to_thread(poster_command, f"sqlite:///{tmp_path}/posters.sqlite3", request) == 0
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(out), str(tmp_path / "p")], check=True)
    (page,) = tmp_path.glob("p*.png")
    scanned = subprocess.run(
        ["zbarimg", "-q", "--raw", str(page)], capture_output=True, text=True, check=True
    )
    scene_param = parse_qs(urlsplit(scanned.stdout.strip()).query)["scene_param"][0]
    assert scene_param == f"v_{ZHOUCHANG}"
    async with FakeWeCom() as fake, wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        (welcome,) = await Customer(fake, channel, "wmScanner").enters(scene_param)
        assert "谁在填" in texts([welcome])


@needs_font
def test_the_command_defaults_to_the_configured_channel_and_settings_errors_are_one_line(tmp_path):
    from tests.test_cli import outreach

    made = outreach(tmp_path, "poster", "--village", ZHOUCHANG, "--out", "p.pdf", WECOM_KF_LINK=KF_LINK)
    assert made.returncode == 0, made.stderr
    wrong = outreach(
        tmp_path, "poster", "--village", ZHOUCHANG, "--out", "p.pdf", WECOM_CALLBACK_AES_KEY="short"
    )
    assert (
        wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "WECOM_CALLBACK_AES_KEY" in wrong.stderr
    )
    partial = outreach(tmp_path, "poster", "--channel", "wecom", "--village", ZHOUCHANG, "--out", "p.pdf")
    assert partial.returncode != 0 and "WECOM_KF_LINK" in partial.stderr and "Traceback" not in partial.stderr
