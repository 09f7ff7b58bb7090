"""The clinician page in a real browser: Playwright drives Debian chromium against uvicorn on 127.0.0.1.

In CI (CI=true) a missing chromium fails these tests; locally they skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from svc_helpers import AS_OF, DEV_FHIR, ServerThread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SHOT = Path(os.environ.get("CALCINOSIS_SCREENSHOT_DIR", "/tmp")) / "calcinosis-service-page.png"


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package in CI")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(kb, tmp_path_factory):
    from calcinosis.service.app import create_app
    from calcinosis.service.settings import Settings

    s = Settings(dev=True, as_of=AS_OF, feedback_db=str(tmp_path_factory.mktemp("fb") / "fb.sqlite3"))
    with ServerThread(create_app(s, kb=kb)) as srv:
        yield srv


def test_founding_case_entered_in_the_form(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/")
    assert "not a diagnosis" in page.text_content("#intended-use")
    page.fill("#age", "7")
    page.select_option("#age_unit", "months")
    page.fill("#lesion_sites", "back, back, left thigh")
    page.fill("#lesion_count", "multiple")
    page.select_option("#painful", "no")
    page.fill("#lesion_description", "painless subcutaneous nodules on the back and thigh")
    for i, analyte in enumerate(["calcium", "phosphorus", "alkaline phosphatase", "parathyroid hormone",
                                 "25-hydroxy vitamin D"]):
        page.fill(f"#lab_analyte_{i}", analyte)
        page.select_option(f"#lab_reported_as_{i}", "normal")
    page.fill("#histology", "FNA: features of tumoral calcinosis")
    page.click("#assess-btn")
    page.wait_for_selector("#result")
    text = page.text_content("#result").lower()
    assert "tumoral calcinosis" in text
    assert "watchful waiting" in text
    page.screenshot(path=str(SHOT), full_page=False)
    page.close()


def test_upload_seed_fhir_bundle(browser, server):
    page = browser.new_page()
    page.goto(server.url + "/")
    page.set_input_files("#file", str(DEV_FHIR / "randhawa2018-seed.json"))
    page.click("#upload-btn")
    page.wait_for_selector("#result")
    text = page.text_content("#result").lower()
    assert "tumoral calcinosis" in text and "randhawa2018-seed.json" in text
    assert "not a diagnosis" in page.text_content("#intended-use")
    page.close()


def test_bad_upload_shows_a_message(browser, server, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "calcinosis-case/1", "age_months": "seven"')
    page = browser.new_page()
    page.goto(server.url + "/")
    page.set_input_files("#file", str(bad))
    page.click("#upload-btn")
    page.wait_for_selector("#errors")
    assert "broken.json" in page.text_content("#errors") and "malformed JSON" in page.text_content("#errors")
    page.close()
