"""The portal in a real browser (Debian's Chromium via Playwright) against a real uvicorn server.

A client logs in on a phone-sized screen, searches, opens a document and downloads it; a staff
member corrects a classification in the review queue and the client sees the change; the
accountant looks at clients and exports. Screenshots of the main pages go to
``test-artifacts/screenshots/`` for people to look at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from backoffice.config import Settings
from backoffice.models import Document
from backoffice.portal import auth
from backoffice.portal.app import create_app
from backoffice.portal.state import PortalSettings
from tests.portal.world import PASSWORD, FakePipeline, World, build_world
from tests.services import free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """A uvicorn server on a free port serving a fresh embedded catalog."""
    original = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    world = build_world(Settings(var_dir=tmp_path_factory.mktemp("e2e") / "var"))
    with world.ctx.catalog.session() as s:
        letter = s.get_one(Document, world.doc_ids["a_letter"])
        letter.needs_review = True
        letter.type_confidence = 0.58
        letter.type_scores = {"letter": 0.58, "other": 0.37, "invoice": 0.05}
        letter.flags = ["Dokumentart unsicher (Brief 58%, Sonstiges 37%)"]
    app = create_app(
        world.settings,
        PortalSettings(secret_key="e2e-secret", reindex_on_start=False),
        process=FakePipeline(),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        auth._hasher = original


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def log_in(page: object, base: str, email: str) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.get_by_label("E-Mail-Adresse").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Passwort").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Anmelden").click()  # type: ignore[attr-defined]


def test_client_searches_opens_and_downloads(
    portal: tuple[str, World], browser: object, tmp_path: Path
) -> None:
    base, world = portal
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 390, "height": 844}, is_mobile=True, accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{base}/archiv")
    assert page.url.startswith(f"{base}/login")
    shot(page, "01-login")
    log_in(page, base, world.emails["alice"])
    page.wait_for_url(f"{base}/archiv")
    shot(page, "02-archiv-handy")
    assert page.locator("li.hit").count() == 4  # ALPHA's filed documents only
    assert "Zebra" not in page.content()

    page.get_by_label("Suchbegriff").fill("Rechnungen")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/archiv?q=Rechnungen*")
    marks = page.locator("li.hit mark")
    assert marks.count() >= 2
    assert {m.lower() for m in marks.all_inner_texts()} <= {"rechnung", "rechnungen"}
    shot(page, "03-suche")

    page.get_by_role("link", name="Rechnung RE-1001 – Müller Bürobedarf GmbH").click()
    page.wait_for_url(f"{base}/dokumente/{world.public['a_invoice']}")
    assert page.locator("iframe.pdf-frame").get_attribute("src") == (
        f"/dokumente/{world.public['a_invoice']}/pdf"
    )
    assert page.get_by_text("RE-1001", exact=True).is_visible()
    shot(page, "04-dokument-handy")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Original herunterladen").click()
    download = download_info.value
    assert download.suggested_filename == "2024-03-01_Rechnung_RE_1001_Muller_Burobedarf_GmbH.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="Fällig").click()
    page.wait_for_url(f"{base}/faellig")
    assert page.get_by_text("119,00 €").first.is_visible()
    shot(page, "05-faellig-handy")
    context.close()


def test_staff_correction_shows_for_the_client(portal: tuple[str, World], browser: object) -> None:
    base, world = portal
    letter = world.public["a_letter"]
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    staff = staff_context.new_page()
    log_in(staff, base, world.emails["staff"])
    staff.wait_for_url(f"{base}/pruefen")
    card = staff.locator("li.hit", has=staff.locator(f'a[href="/dokumente/{letter}"]'))
    assert "Brief 58 %" in card.inner_text() and "Sonstiges 37 %" in card.inner_text()
    shot(staff, "06-pruefen")
    card.get_by_role("button", name="Sonstiges").click()
    staff.wait_for_url(f"{base}/dokumente/{letter}?hinweis=gespeichert")
    assert staff.get_by_role("status").inner_text() == "Gespeichert."
    shot(staff, "07-korrektur")
    staff.goto(f"{base}/dokumente/{world.public['unassigned']}")
    shot(staff, "08-dokument-ohne-mandant")
    staff_context.close()

    client_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    client = client_context.new_page()
    log_in(client, base, world.emails["alice"])
    client.goto(f"{base}/dokumente/{letter}")
    assert client.locator(".facts .badge").inner_text() == "Sonstiges"
    client.goto(f"{base}/archiv?typ=other")
    assert client.locator("li.hit").count() == 1
    shot(client, "09-client-nach-korrektur")
    client_context.close()


def test_accountant_pages(portal: tuple[str, World], browser: object) -> None:
    base, world = portal
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, base, world.emails["carla"])
    page.wait_for_url(f"{base}/mandanten")
    assert page.get_by_role("cell", name="Alpha Bäckerei GmbH").is_visible()
    shot(page, "10-mandanten")
    page.get_by_role("link", name="Exporte").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="2024-03/EXTF_ALPHA.csv").click()
    assert download_info.value.suggested_filename == "ALPHA_2024-03_EXTF_ALPHA.csv"
    shot(page, "11-exporte")
    context.close()
