"""The dashboard in a real browser: headless Chromium against the gunicorn-served collector.

Chromium and chromedriver are installed by ``.ci/run`` (Debian's ``chromium`` and ``chromium-driver``):
a missing browser is a broken set-up, so these tests fail rather than skip.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.collector.conftest import ADMIN_TOKEN, HOSTILE_HOME, HOSTILE_HOSTNAME, HOSTILE_SSID
from tests.collector.serving import ServedCollector

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[object]:
    """Headless Chromium with a fresh profile; fails (not skips) if the browser is not installed."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(os.path.basename(path))):
            pytest.fail(
                f"{path} is missing: apt-get install chromium chromium-driver (.ci/run installs them)"
            )
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(120)  # a loaded 2-core CI machine can take long to render
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def served(sim_db: Path) -> Iterator[ServedCollector]:
    with ServedCollector(sim_db, ADMIN_TOKEN) as server:
        yield server


def _rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _wait_title(browser, text: str) -> None:
    """Wait (bounded) for the page after a click: form submissions load asynchronously."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(lambda b: text in b.title, f"page title never contained {text!r}")


def _no_alert(browser) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        browser.switch_to.alert  # noqa: B018 - raises when there is none
    except NoAlertPresentException:
        return True
    return False


def test_browse_a_household_and_erase_it(driver, served: ServedCollector, sim_db: Path) -> None:
    from selenium.webdriver.common.by import By

    homes = [
        h for (h,) in _rows(sim_db, "SELECT DISTINCT home FROM reports ORDER BY home") if h != HOSTILE_HOME
    ]
    assert len(homes) == 3

    # Without a session: the login form (the page answers 401).
    driver.get(served.url + "/")
    assert "Log in" in driver.title
    driver.find_element(By.NAME, "token").send_keys(ADMIN_TOKEN)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    # The overview lists every household of the run, and the totals of what the collector knows.
    _wait_title(driver, "Overview")
    listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#households tbody td:first-child a")]
    assert listed == sorted([*homes, HOSTILE_HOME])
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart rect"), "reports-per-hour chart is empty"

    # Follow a household: its devices (hostnames and MACs) and its Wi-Fi neighbourhood.
    target = homes[1]
    driver.find_element(By.LINK_TEXT, target).click()
    _wait_title(driver, f"Household {target}")
    devices_text = driver.find_element(By.ID, "devices").text
    networks_text = driver.find_element(By.ID, "networks").text
    devices = _rows(sim_db, "SELECT mac, hostname FROM devices WHERE home = ?", target)
    networks = _rows(sim_db, "SELECT ssid FROM networks WHERE home = ? AND ssid <> ''", target)
    assert devices and networks
    for mac, hostname in devices:
        assert mac in devices_text
        if hostname:
            assert hostname in devices_text
    for (ssid,) in networks:
        assert ssid in networks_text

    # Erase it (the form needs its confirmation box), and it is gone.
    driver.find_element(By.ID, "confirm-erase").click()
    driver.find_element(By.ID, "erase-button").click()
    _wait_title(driver, "Overview")
    assert f"Household {target} erased" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#households tbody td:first-child a")]
    assert target not in listed and len(listed) == 3
    driver.get(f"{served.url}/households/{target}")
    assert "404" in driver.title

    check = served.get_json(f"/api/v1/households/{target}/erasure-check")
    assert check["clean"] is True and check["erasures"][0]["actor"].startswith("token:")
    assert _rows(sim_db, "SELECT count(*) FROM reports WHERE home = ?", target) == [(0,)]
    assert _rows(sim_db, "SELECT count(*) FROM devices WHERE home = ?", target) == [(0,)]

    driver.get(served.url + "/erasures")
    assert target in driver.find_element(By.ID, "erasures").text


def test_hostile_ssid_renders_as_text_and_runs_nothing(driver, served: ServedCollector) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{served.url}/households/{HOSTILE_HOME}?token={ADMIN_TOKEN}")
    # ?token= logged us in and was taken out of the address at once.
    assert "token=" not in driver.current_url
    assert HOSTILE_HOME in driver.title

    ssids = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#networks td.ssid")]
    assert HOSTILE_SSID in ssids, ssids
    assert HOSTILE_HOSTNAME in driver.find_element(By.ID, "devices").text
    # Nothing from the report became markup: no script or image element, no alert, nothing ran.
    assert driver.find_elements(By.TAG_NAME, "script") == []
    assert driver.find_elements(By.TAG_NAME, "img") == []
    assert _no_alert(driver)
    assert driver.execute_script("return document.title").startswith("Household")

    driver.get(f"{served.url}/search?q=script")
    assert HOSTILE_SSID in driver.find_element(By.ID, "found-networks").text
    assert driver.find_elements(By.TAG_NAME, "script") == [] and _no_alert(driver)
