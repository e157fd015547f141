"""The pages: the numbers equal the API's, the students table sorts and filters, untrusted text stays text."""

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ApiWorld
from tests.dashboard.conftest import EDITED_FLAG, HOSTILE, Seeded, elements


def _api(world: ApiWorld, path: str) -> object:
    response = world.client.get(path, headers=world.headers("instructor"))
    assert response.status_code == 200, response.text
    return response.json()


def _students(page: str) -> list[str]:
    return [html.unescape(row["data-student"]) for row in elements(page, "tr") if "data-student" in row]


def test_assignments_table_has_the_apis_counts_and_stats(browser: TestClient, world: ApiWorld,
                                                         seeded: Seeded) -> None:
    page = browser.get("/dashboard").text
    detail = _api(world, "/api/v1/assignments/layers")
    stats = _api(world, "/api/v1/assignments/layers/stats")
    assert isinstance(detail, dict) and isinstance(stats, dict)
    assert elements(page, "table", id="assignments") and elements(page, "tr", data_assignment="layers")
    row = page.split('<tr data-assignment="layers">')[1].split("</tr>")[0]
    cells = dict(re.findall(r'<td data-col="([a-z-]+)"[^>]*>(.*?)</td>', row, re.S))
    for status in ("queued", "running", "graded", "error"):
        assert cells[status] == str(detail["counts"][status])
    assert detail["counts"]["error"] == 1, "carol's newest run ended in error"
    assert cells["mean"] == f"{stats['mean']:.1f}" and cells["median"] == f"{stats['median']:g}"
    assert "<time datetime=" in cells["last-activity"]
    assert elements(page, "a", href="/dashboard/assignments/layers")


def test_histogram_and_pass_rates_equal_the_apis_stats(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    page = browser.get("/dashboard/assignments/layers").text
    stats = _api(world, "/api/v1/assignments/layers/stats")
    assert isinstance(stats, dict)
    assert elements(page, "svg", id="histogram", role="img")
    bars = elements(page, "rect", **{"class": "bar"})
    assert [(b["data-lower"], b["data-upper"], int(b["data-count"])) for b in bars] == [
        (f"{b['lower']:g}", f"{b['upper']:g}", b["count"]) for b in stats["histogram"]]
    assert sum(int(b["data-count"]) for b in bars) == stats["students"] == 4
    rows = [row for row in elements(page, "tr") if "data-pass-rate" in row]
    expected = [(i["id"], "" if i["pass_rate"] is None else f"{i['pass_rate']:.4f}") for i in stats["items"]]
    assert [(row["data-item"], row["data-pass-rate"]) for row in rows] == expected
    rates = [i["pass_rate"] for i in stats["items"] if i["pass_rate"] is not None]
    lowest = min(rates)
    at_lowest = {i["id"] for i in stats["items"] if i["pass_rate"] == lowest}
    weakest = at_lowest if len(at_lowest) == 1 and len(rates) > 1 else set()
    assert {row["data-item"] for row in rows if row.get("class") == "weakest"} == weakest
    assert page.count(">weakest</strong>") == len(weakest)
    assert f"{lowest * 100:.0f}%" in page
    if len(at_lowest) > 1:
        assert f"({len(at_lowest)} items are tied at the lowest pass rate, {lowest * 100:.0f}%)" in page


def test_students_table_default_sort_and_columns(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    page = browser.get("/dashboard/assignments/layers").text
    assert _students(page) == sorted(["alice", "bob", "carol", HOSTILE])
    api = _api(world, "/api/v1/assignments/layers/scores")
    assert isinstance(api, dict)
    bob = next(r for r in api["students"] if r["student"] == "bob")
    cells = dict(re.findall(r'<td data-col="([a-z]+)" data-value="([^"]*)"',
                            page.split('data-student="bob"')[1].split("</tr>")[0]))
    assert cells == {"student": "bob", "latest": f"{bob['latest_score']:g}", "best": f"{bob['best_score']:g}",
                     "submissions": "2", "flags": "0", "errors": "0"}
    assert elements(page, "a", href=f"/dashboard/submissions/{seeded.ids['bob-2']}")
    carol = page.split('data-student="carol"')[1].split("</tr>")[0]
    assert 'data-col="errors" data-value="1"' in carol
    alice = page.split('data-student="alice"')[1].split("</tr>")[0]
    assert 'data-col="flags" data-value="1"' in alice and EDITED_FLAG in alice
    sorted_th = [th for th in elements(page, "th") if "aria-sort" in th]
    assert sorted_th == [{"scope": "col", "aria-sort": "ascending"}]
    assert elements(page, "a", data_sort="student", href="?sort=student&order=desc&q=")
    assert elements(page, "a", data_sort="best", href="?sort=best&order=asc&q=")


@pytest.mark.parametrize(("query", "expected"), [
    ("?sort=latest&order=desc&q=", ["alice", "bob", "carol", HOSTILE]),
    ("?sort=latest&order=asc&q=", [HOSTILE, "carol", "alice", "bob"]),
    ("?sort=submissions&order=desc&q=", ["alice", "bob", HOSTILE, "carol"]),
    ("?sort=errors&order=desc&q=", ["carol", HOSTILE, "alice", "bob"]),
    ("?sort=student&order=desc&q=", ["carol", "bob", "alice", HOSTILE]),
    ("?q=ALI", ["alice"]),
    ("?q=o&sort=student&order=asc", ["bob", "carol"]),
    ("?flagged=1", [HOSTILE, "alice"]),
    ("?q=zz", []),
])
def test_sort_search_and_flagged_filter(browser: TestClient, seeded: Seeded, query: str,
                                        expected: list[str]) -> None:
    response = browser.get(f"/dashboard/assignments/layers{query}")
    assert response.status_code == 200
    assert _students(response.text) == expected


def test_sorted_header_toggles_and_keeps_the_filters(browser: TestClient, seeded: Seeded) -> None:
    page = browser.get("/dashboard/assignments/layers?sort=best&order=asc&q=a&flagged=1").text
    assert elements(page, "a", data_sort="best", href="?sort=best&order=desc&q=a&flagged=1")
    assert [th["aria-sort"] for th in elements(page, "th") if "aria-sort" in th] == ["ascending"]
    assert elements(page, "input", type="search", name="q", id="q", value="a")
    assert elements(page, "form", id="student-search", method="get")
    assert elements(page, "a", id="all-students")
    plain = browser.get("/dashboard/assignments/layers").text
    assert elements(plain, "a", id="only-flagged", href="?sort=student&order=asc&q=&flagged=1")
    assert "Only flagged" in plain
    assert browser.get("/dashboard/assignments/layers?sort=nope").status_code == 422


def test_csv_export_is_the_apis_csv(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    page = browser.get("/dashboard/assignments/layers").text
    assert elements(page, "a", id="export-csv", href="/dashboard/assignments/layers/scores.csv")
    ours = browser.get("/dashboard/assignments/layers/scores.csv")
    theirs = world.client.get("/api/v1/assignments/layers/scores?format=csv", headers=world.headers("instructor"))
    assert ours.status_code == theirs.status_code == 200
    assert ours.content == theirs.content and ours.content.startswith(b"student_id,score,max_score\n")
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    assert ours.headers["content-disposition"] == theirs.headers["content-disposition"]


def test_submission_page_shows_items_code_flags_and_runs(browser: TestClient, world: ApiWorld,
                                                         seeded: Seeded) -> None:
    sid = seeded.ids["carol-1"]
    page = browser.get(f"/dashboard/submissions/{sid}").text
    api = _api(world, f"/api/v1/submissions/{sid}")
    assert isinstance(api, dict)
    current = next(run for run in api["runs"] if run["id"] == api["current_run_id"])
    items = [row for row in elements(page, "tr") if "data-points" in row]
    assert [(r["data-item"], r["data-status"], r["data-points"]) for r in items] == [
        (t["id"], t["status"], f"{t['points']:g}") for t in current["tests"]]
    assert any(t["visibility"] == "hidden" and t["message"] and html.escape(t["message"], quote=False) in page
               for t in current["tests"]), "instructors see hidden items' messages"
    marks = elements(page, "mark", **{"class": "solution"})
    assert [m["data-cell"] for m in marks] == ["matmul-naive", "dense-layer"]
    assert all(m["aria-label"].startswith("Solution cell") for m in marks)
    code = page.split('<pre id="code"')[1].split("</pre>")[0]
    assert '<span class="ln">1</span>' in code and "def matmul" in code
    assert elements(page, "pre", id="output") and elements(page, "dl", id="resources")
    assert elements(page, "ul", id="flags") and "No integrity flags." in page
    runs = [row for row in elements(page, "tr") if "data-run" in row]
    assert [r["data-run"] for r in runs] == [run["id"] for run in reversed(api["runs"])]
    assert [r["data-status"] for r in runs] == ["error", "graded"]
    assert runs[1]["data-rubric-version"] == current["rubric_version"]
    assert runs[1]["data-score"] == f"{current['score']:g}"
    retry_forms = [f for f in elements(page, "form") if f.get("id", "").startswith("retry-form-")]
    assert [f["id"] for f in retry_forms] == [f"retry-form-{seeded.ids['carol-error-run']}"]
    assert elements(page, "svg", id="score-history", role="img")
    assert [c["data-score"] for c in elements(page, "circle")] == [f"{current['score']:g}"]
    assert elements(page, "form", id="resend-passback-form")
    assert elements(page, "a", href="#main") and elements(page, "nav", aria_label="Breadcrumb")


def test_flags_and_score_history_of_a_student(browser: TestClient, seeded: Seeded) -> None:
    page = browser.get(f"/dashboard/submissions/{seeded.ids['alice-2']}").text
    assert elements(page, "li", data_flag=EDITED_FLAG)
    history = [row["data-submission"] for row in elements(page, "tr") if "data-submission" in row]
    assert history == [seeded.ids["alice-2"], seeded.ids["alice-1"]]
    assert not [f for f in elements(page, "form") if f.get("id", "").startswith("retry-form-")]


def test_hostile_text_is_escaped_everywhere(browser: TestClient, seeded: Seeded) -> None:
    for path in ("/dashboard/assignments/layers", f"/dashboard/submissions/{seeded.ids['hostile-1']}",
                 "/dashboard/assignments/layers?q=%3Cscript%3E", "/dashboard/assignments/layers?flagged=1"):
        page = browser.get(path).text
        assert "<script>alert" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    page = browser.get(f"/dashboard/submissions/{seeded.ids['hostile-1']}").text
    assert "stdout &lt;script&gt;" in page and "message &lt;script&gt;" in page
    assert not elements(page, "form", id="resend-passback-form"), "no callback_url, no resend"


def test_pages_are_scoped_to_the_course(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    other = seeded.room.__class__(factory=world.factory, evaluations=seeded.room.evaluations, course=world.other)
    foreign = other.submit("mallory", "full")
    response = browser.get(f"/dashboard/submissions/{foreign}")
    assert response.status_code == 403 and elements(response.text, "p", role="alert")
    assert browser.get("/dashboard/assignments/pooling").status_code == 404
    assert "mallory" not in browser.get("/dashboard/assignments/layers").text
    batch = other.start()
    assert browser.get(f"/dashboard/batches/{batch}").status_code == 403
    assert browser.get(f"/dashboard/batches/{batch}/progress.json").status_code == 403
