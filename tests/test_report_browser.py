"""The explorable HTML report in a real browser: headless Chromium driven by selenium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the Python package
``selenium`` (in the ``dev`` extra); ``.ci/run`` installs the browser when it is missing.
Locally the tests skip with the install command when it is absent; on CI they fail instead.
``COHORTMATCH_UPDATE_DOCS=1`` writes the screenshot to ``docs/images/report-explorer.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import cohortmatch as cm
from cohortmatch.display import team_labels
from cohortmatch.report import write_report

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "apt-get install -y chromium chromium-driver; pip install selenium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1500")


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        selenium_ok = False
    else:
        selenium_ok = True
    missing = [n for n, ok in (("chromium", chromium), ("chromedriver", driver), ("selenium", selenium_ok))
               if not ok]
    if missing:
        message = f"the browser test needs {', '.join(missing)}: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert chromium and driver
    return chromium, driver


@pytest.fixture(scope="module")
def law_report(tmp_path_factory):
    org = cm.datasets.lazega_lawfirm()
    courses = [cm.Course(id="bizdev", min_size=6, max_size=8)]
    plan = cm.plan(org, courses, policy=cm.Policy(max_per_team=4), time_limit=None, work_limit=3000,
                   seed=7)
    assert cm.validate(plan, org, courses, cm.Policy(max_per_team=4)) == []
    out = tmp_path_factory.mktemp("report")
    return plan, org, write_report(plan, org, out, title="Business development cohorts")["html"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(browser, page: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "explore").is_displayed())
    return By, WebDriverWait


def _errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_search_finds_a_person_and_shows_their_cohort(browser, law_report, tmp_path):
    plan, _, page = law_report
    By, Wait = _open(browser, page)
    person = "law42"
    cohort = next(c for c in plan.cohorts if person in c.members)
    box = browser.find_element(By.ID, "person-search")
    box.send_keys(person)
    result = browser.find_element(By.ID, "person-result")
    Wait(browser, 5).until(lambda d: person in result.text)
    org = cm.datasets.lazega_lawfirm()
    team = team_labels(org)[next(p.team for p in org.people if p.id == person)]  # shown by name
    assert f"{person} ({team}): cohort {cohort.id}, course bizdev, round 0" in result.text
    card = browser.find_element(By.CSS_SELECTOR, "div.cohort.hit")
    assert card.find_element(By.TAG_NAME, "h3").text == cohort.id
    assert person in card.find_element(By.CSS_SELECTOR, "li.hit").text  # the members list is open
    box.clear()
    box.send_keys("law0")  # part of an id: everyone whose id contains it
    Wait(browser, 5).until(lambda d: "law09" in result.text)
    assert len(result.find_elements(By.TAG_NAME, "li")) == 10
    box.clear()
    box.send_keys("nobody")
    Wait(browser, 5).until(lambda d: "Nobody with an id like" in result.text)
    assert _errors(browser) == []
    shot = tmp_path / "search.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_team_filter_shows_one_teams_members_cohorts_and_gaps(browser, law_report):
    plan, org, page = law_report
    By, Wait = _open(browser, page)
    from selenium.webdriver.support.ui import Select

    team_id = "hartford-corporate"
    team = team_labels(org)[team_id]  # the report shows teams by their names
    Select(browser.find_element(By.ID, "team-filter")).select_by_value(team)
    view = browser.find_element(By.ID, "team-view")
    Wait(browser, 5).until(lambda d: view.is_displayed())
    members = [p.id for p in org.people if p.team == team_id]
    with_team = [c.id for c in plan.cohorts if team_id in c.teams]
    assert view.find_element(By.TAG_NAME, "h3").text == (
        f"Team {team}: {len(members)} people in {len(with_team)} cohort(s)")
    assert sorted(li.text.split(" ")[0] for li in view.find_elements(By.TAG_NAME, "li")) == sorted(members)
    cards = [c.find_element(By.TAG_NAME, "h3").text
             for c in browser.find_elements(By.CSS_SELECTOR, "div.cohort") if c.is_displayed()]
    assert cards == with_team
    rows = [r for r in browser.find_elements(By.CSS_SELECTOR, "#gap-table tbody tr") if r.is_displayed()]
    assert len(rows) == sum(team_id in (g.a, g.b) for g in org.gaps) and all(team in r.text for r in rows)
    teams = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#team-table tbody tr")
             if r.is_displayed()]
    assert len(teams) == 1 and teams[0].startswith(team)
    shot = (ROOT / "docs" / "images" / "report-explorer.png" if os.environ.get("COHORTMATCH_UPDATE_DOCS")
            else None)
    if shot is not None:
        browser.find_element(By.ID, "person-search").send_keys(members[0])
        shot.parent.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(shot))
    Select(browser.find_element(By.ID, "team-filter")).select_by_value("")
    Wait(browser, 5).until(lambda d: not view.is_displayed())
    assert all(c.is_displayed() for c in browser.find_elements(By.CSS_SELECTOR, "div.cohort"))
    assert _errors(browser) == []


def test_tables_sort_by_a_click_on_a_column(browser, law_report):
    plan, org, page = law_report
    By, _ = _open(browser, page)

    def column(table: str, i: int) -> list[str]:
        return [r.find_elements(By.TAG_NAME, "td")[i].text
                for r in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")]

    weight = browser.find_elements(By.CSS_SELECTOR, "#gap-table thead th button")[2]
    weight.click()
    ascending = sorted(g.weight for g in org.gaps)
    assert [float(x) for x in column("gap-table", 2)] == pytest.approx(ascending, rel=1e-5)
    weight.click()
    assert [float(x) for x in column("gap-table", 2)] == pytest.approx(ascending[::-1], rel=1e-5)
    header = browser.find_elements(By.CSS_SELECTOR, "#gap-table thead th")[2]
    assert header.get_attribute("aria-sort") == "descending"
    browser.find_elements(By.CSS_SELECTOR, "#cohort-table thead th button")[3].click()
    assert [int(x) for x in column("cohort-table", 3)] == sorted(len(c.members) for c in plan.cohorts)
    browser.find_elements(By.CSS_SELECTOR, "#team-table thead th button")[0].click()
    browser.find_elements(By.CSS_SELECTOR, "#team-table thead th button")[0].click()
    assert column("team-table", 0) == sorted(column("team-table", 0), reverse=True)
    assert _errors(browser) == []
