"""The leader's own page over real HTTP (issue 15, part 3): the digest links to it; it lists the leader's
open warnings red first with the digest's words; claim with a 措施 note, feedback (反馈) and close with a
销号 note act from it and show in its history; another leader's token and an expired token are refused;
and the notes appear beside the warning in the next weekly dispatch."""

from __future__ import annotations

import os
import re
import subprocess
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from econ_monitor import pipeline
from econ_monitor.alerts import links
from econ_monitor.alerts.links import sign
from econ_monitor.settings import PROJECT_DIR, load_settings
from econ_monitor.wording import describe
from tests.support import noted_events, rows
from tests.test_claim_links import _served

FOREIGN_TRADE = "indicator_off_target:foreign_trade:2025"  # red, addressed to L04 (分管商贸副市长)
VC_INSTITUTIONS = "indicator_off_target:vc_institutions:2025"  # red, addressed to L07
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def site(sample_warehouse):
    from econ_monitor.web import create_app

    _, conn = sample_warehouse
    pipeline.raise_alerts()
    with _served(create_app()) as base:
        yield base, conn


def _page_token(leader_code: str) -> str:
    return sign(load_settings().link_secret, "page", "", leader_code)


class _IssuedFifteenDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 15 * 86400


def _visible(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _card(html: str, name: str) -> str:
    """The visible text of the warning card that names `name`."""
    return next(_visible(card) for card in html.split("<section")[1:] if name in card)


def _post(base: str, action: str, token: str, alert_key: str, note: str | None = None) -> httpx.Response:
    data = {"token": token, "alert_key": alert_key} | ({"note": note} if note is not None else {})
    return httpx.post(f"{base}/leader/{action}", data=data, follow_redirects=True)


def test_the_digest_links_to_the_leaders_own_page(site, mailbox):
    base, _ = site
    pipeline.deliver_mail()
    (mail,) = [m for m in mailbox.messages if m["To"] == "finance-vice-mayor@jiaozhou.example"]
    html = mail.get_body(("html",)).get_content()
    link = next(part.split('"')[0] for part in html.split('href="')[1:] if "/leader/page" in part)
    token = parse_qs(urlparse(link.replace("&amp;", "&")).query)["token"][0]
    assert links.verify(load_settings().link_secret, token, 3600) == links.AlertAction("page", "", "L07")
    assert "/leader/page?token=" in mail.get_body(("plain",)).get_content()
    page = httpx.get(f"{base}/leader/page", params={"token": token})
    assert page.status_code == 200 and "新增落户创投风投机构" in page.text


def test_the_page_lists_the_leaders_open_warnings_red_first_in_the_digests_words(site):
    base, conn = site
    page = httpx.get(f"{base}/leader/page", params={"token": _page_token("L04")})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<meta name="viewport"' in page.text
    expected = rows(
        conn,
        """SELECT entity_name, level FROM monitor.alerts
                             WHERE leader_code = 'L04' AND status IN ('open', 'claimed')
                             ORDER BY level <> 'red', rule_code, entity_code""",
    )
    assert expected and any(level == "red" for _, level in expected)
    cards = page.text.split("<section")[1:]
    assert len(cards) == len(expected)
    levels = ["red" if "card red" in card else "yellow" for card in cards]
    assert levels == sorted(levels, key=lambda level: level != "red")  # red first
    # measure, target, gap and pace needed: the digest's wording of the mart's figures
    with conn.cursor() as cur:
        from psycopg.rows import dict_row

        cur.row_factory = dict_row
        alert = cur.execute("SELECT * FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)).fetchone()
    measure, gap = describe(alert)
    card = _card(page.text, "货物进出口总额")
    assert measure in card and gap in card and "待认领" in card
    # another leader's warnings are not on it
    assert "新增落户创投风投机构" not in page.text


def test_claim_with_a_note_feedback_and_close_with_a_note(site):
    base, conn = site
    token = _page_token("L04")
    claimed = _post(base, "claim", token, FOREIGN_TRADE, "成立外贸专班，<b>逐企</b>走访")
    assert claimed.status_code == 200 and "已领任务" in claimed.text
    card = _card(claimed.text, "货物进出口总额")
    assert "已由 分管商贸副市长 于" in card and "认领" in card
    assert "措施 成立外贸专班，<b>逐企</b>走访" in card  # escaped: shown as text, not markup
    assert "<b>逐企</b>" not in claimed.text and "&lt;b&gt;逐企&lt;/b&gt;" in claimed.text
    assert rows(conn, "SELECT status, claimed_by FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [
        ("claimed", "分管商贸副市长")
    ]

    fed_back = _post(base, "feedback", token, FOREIGN_TRADE, "已走访 12 家重点外贸企业")
    assert fed_back.status_code == 200 and "已反馈" in fed_back.text
    card = _card(fed_back.text, "货物进出口总额")
    assert card.index("措施 成立外贸专班") < card.index("反馈 已走访 12 家重点外贸企业")
    assert "分管商贸副市长" in card and re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d · 分管商贸副市长", card)

    empty = _post(base, "feedback", token, FOREIGN_TRADE, "   ")
    assert empty.status_code == 409 and "反馈内容不能为空" in empty.text

    closed = _post(base, "close", token, FOREIGN_TRADE, "9月进出口回升，销号")
    assert closed.status_code == 200 and "已销号" in closed.text and "货物进出口总额" not in closed.text
    assert rows(conn, "SELECT status, close_note FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [
        ("closed", "9月进出口回升，销号")
    ]
    assert noted_events(conn, FOREIGN_TRADE) == [
        ("claimed", "分管商贸副市长", "成立外贸专班，<b>逐企</b>走访"),
        ("feedback", "分管商贸副市长", "已走访 12 家重点外贸企业"),
        ("closed", "分管商贸副市长", "9月进出口回升，销号"),
    ]


def test_opening_the_page_changes_nothing(site):
    base, conn = site
    before = rows(conn, "SELECT count(*) FROM monitor.alert_events")
    for _ in range(2):
        assert httpx.get(f"{base}/leader/page", params={"token": _page_token("L07")}).status_code == 200
    assert rows(conn, "SELECT count(*) FROM monitor.alert_events") == before
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (VC_INSTITUTIONS,)) == [("open",)]


@pytest.mark.parametrize("case", ["other_leader", "expired", "tampered", "claim_link"])
def test_a_wrong_token_is_refused(site, case):
    base, conn = site
    if case == "other_leader":  # L04's valid page token, used on L07's warning
        token, status, expected = _page_token("L04"), 403, "不属于您"
    elif case == "expired":
        serializer = URLSafeTimedSerializer(load_settings().link_secret, salt=links._SALT, signer=_IssuedFifteenDaysAgo)
        token, status, expected = serializer.dumps({"act": "page", "key": "", "to": "L07"}), 403, "已过期"
    elif case == "tampered":
        token, status, expected = _page_token("L07")[:-3] + "AAA", 403, "链接无效"
    else:  # a link to claim one warning does not open the page
        token, status, expected = (
            sign(load_settings().link_secret, "claim", VC_INSTITUTIONS, "L07"),
            403,
            "another action",
        )
    for action in ("claim", "close"):
        response = _post(base, action, token, VC_INSTITUTIONS, "不该生效")
        assert response.status_code == status and expected in response.text
        assert "新增落户创投风投机构" not in response.text
    if case != "other_leader":
        page = httpx.get(f"{base}/leader/page", params={"token": token})
        assert page.status_code == 403 and expected in page.text and "新增落户创投风投机构" not in page.text
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (VC_INSTITUTIONS,)) == [("open",)]
    assert rows(conn, "SELECT count(*) FROM monitor.alert_events WHERE note = '不该生效'") == [(0,)]


def test_the_notes_appear_beside_the_warning_in_the_next_weekly_dispatch(site):
    from econ_monitor.reports import weekly_dispatch

    base, conn = site
    key, name = rows(
        conn,
        """SELECT alert_key, entity_name FROM monitor.alerts
                              WHERE leader_code = 'L07' AND status = 'open' AND alert_key <> %s
                              ORDER BY alert_key LIMIT 1""",
        (VC_INSTITUTIONS,),
    )[0]
    token = _page_token("L07")
    assert _post(base, "claim", token, key, "制定<招商>清单").status_code == 200
    assert _post(base, "feedback", token, key, "已对接 3 家机构").status_code == 200

    dispatch = weekly_dispatch(conn)
    row = next(r for r in dispatch.html.split("<tr")[1:] if name in r)
    assert "措施（" in row and "&lt;招商&gt;" in row and "<招商>" not in dispatch.html
    assert "反馈（" in row and "已对接 3 家机构" in row and "分管" in row
    line = dispatch.text.split(name, 1)[1]
    assert "措施（" in line and "制定<招商>清单" in line and "已对接 3 家机构" in line


def test_the_page_fits_a_390px_phone_screen(site, tmp_path):
    """Rendered by headless Chromium in a 390 px wide window; with ECON_UPDATE_DOCS=1 the screenshot
    replaces docs/leader_page.png (a test run leaves the checkout as it was)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    base, _ = site
    shot = tmp_path / "leader_page.png"
    url = f"{base}/leader/page?token={_page_token('L07')}"
    common = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars",
        "--window-size=390,1400",
    ]
    subprocess.run([*common, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=120)
    dom = subprocess.run([*common, "--dump-dom", url], check=True, capture_output=True, timeout=120, text=True).stdout
    assert "领任务" in dom and "新增落户创投风投机构" in dom
    from PIL import Image

    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (390, 1400)
        colours = pixels.getcolors(maxcolors=1 << 20)
        assert any(
            sum(abs(a - b) for a, b in zip(colour, (0xC0, 0x39, 0x2B), strict=False)) <= 12 for _, colour in colours
        )
        if os.environ.get("ECON_UPDATE_DOCS") == "1":
            pixels.save(PROJECT_DIR / "docs" / "leader_page.png")
