"""Regrade from the dashboard: start a batch, follow it, see what changed, publish; retry and resend."""

import re

from fastapi.testclient import TestClient

from tests.api.conftest import ApiWorld
from tests.dashboard.conftest import Seeded, csrf_of, elements


def _regrade(browser: TestClient, **form: str) -> str:
    page = browser.get("/dashboard/assignments/layers").text
    assert elements(page, "form", id="regrade-form", method="post", action="/dashboard/assignments/layers/regrade")
    assert elements(page, "select", name="scope") and elements(page, "input", name="preview", type="checkbox")
    response = browser.post("/dashboard/assignments/layers/regrade",
                            data={"csrf_token": csrf_of(page), **form}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_regrade_starts_a_batch_and_the_page_follows_it(browser: TestClient, world: ApiWorld,
                                                        seeded: Seeded) -> None:
    before = len(world.dispatcher.messages)
    location = _regrade(browser, scope="latest", preview="on")
    assert location.startswith("/dashboard/batches/")
    batch_id = location.rsplit("/", 1)[1]
    sent = world.dispatcher.messages[before:]
    assert len(sent) == 4 and {m.kind for m in sent} == {"grade"}, "one run per student, sent after commit"
    page = browser.get(location).text
    bar = elements(page, "progress", id="batch-progress")[0]
    assert (bar["data-state"], bar["data-done"], bar["data-total"], bar["max"], bar["value"]) == (
        "running", "0", "4", "4", "0")
    assert '<meta http-equiv="refresh" content="2">' in page
    assert elements(page, "form", id="cancel-form") and elements(page, "form", id="publish-form")
    assert not elements(page, "section", id="batch-summary")
    progress = browser.get(f"{location}/progress.json").json()
    assert progress == {"state": "running", "done": 0, "total": 4, "failed": 0, "changed": 0}
    api = world.client.get(f"/api/v1/batches/{batch_id}", headers=world.headers("instructor")).json()
    assert api["progress"]["total"] == 4 and api["preview"] is True

    seeded.room.grade_batch(batch_id)
    page = browser.get(location).text
    bar = elements(page, "progress", id="batch-progress")[0]
    assert (bar["data-state"], bar["data-done"], bar["data-total"]) == ("done", "4", "4")
    assert "http-equiv" not in page and not elements(page, "form", id="cancel-form")
    assert elements(page, "section", id="batch-summary")
    summary = world.client.get(f"/api/v1/batches/{batch_id}", headers=world.headers("instructor")).json()["summary"]
    for key in ("up", "down", "unchanged"):
        assert f'<dd data-key="{key}">{summary[key]}</dd>' in page
    assert browser.get(f"{location}/progress.json").json()["state"] == "done"

    publish = browser.post(f"{location}/publish", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert publish.status_code == 303 and publish.headers["location"] == f"{location}?done=published"
    page = browser.get(publish.headers["location"]).text
    assert elements(page, "p", role="status") and elements(page, "form", id="rollback-form")
    assert not elements(page, "form", id="publish-form")


def test_a_changed_score_shows_in_the_summary(browser: TestClient, seeded: Seeded) -> None:
    seeded.room.age_rubric(seeded.ids["bob-2"], score_delta=-15, flip_item="hidden-dense-forward")
    batch_id = _regrade(browser, scope="latest").rsplit("/", 1)[1]
    seeded.room.grade_batch(batch_id)
    page = browser.get(f"/dashboard/batches/{batch_id}").text
    assert '<dd data-key="up">1</dd>' in page
    assert elements(page, "tr", data_submission=seeded.ids["bob-2"])
    assert elements(page, "tr", data_item="hidden-dense-forward")
    assert elements(page, "form", id="rollback-form"), "a non-preview batch is published at once"


def test_a_second_regrade_is_refused_with_an_alert(browser: TestClient, seeded: Seeded) -> None:
    first = _regrade(browser, scope="all")
    second = _regrade(browser, scope="latest")
    assert second == "/dashboard/assignments/layers?error=regrade-running"
    page = browser.get(second).text
    assert elements(page, "p", role="alert") and "still running" in page
    assert elements(page, "a", href=first)
    cancel = browser.post(f"{first}/cancel", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert cancel.headers["location"] == f"{first}?done=cancelled"
    assert elements(browser.get(first).text, "progress", data_state="cancelled")


def test_retry_an_error_run(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    run_id = seeded.ids["carol-error-run"]
    page = browser.get(f"/dashboard/submissions/{seeded.ids['carol-1']}").text
    assert elements(page, "form", id=f"retry-form-{run_id}", action=f"/dashboard/runs/{run_id}/retry")
    before = len(world.dispatcher.messages)
    response = browser.post(f"/dashboard/runs/{run_id}/retry", data={"csrf_token": csrf_of(page)},
                            follow_redirects=False)
    assert response.headers["location"] == f"/dashboard/submissions/{seeded.ids['carol-1']}?done=retried"
    assert [(m.kind, m.run_id) for m in world.dispatcher.messages[before:]] == [("grade", run_id)]
    page = browser.get(response.headers["location"]).text
    assert elements(page, "p", role="status") and elements(page, "tr", data_run=run_id, data_status="queued")
    again = browser.post(f"/dashboard/runs/{run_id}/retry", data={"csrf_token": csrf_of(page)},
                         follow_redirects=False)
    assert again.headers["location"].endswith("?error=not-retryable")


def test_resend_passback(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    sid = seeded.ids["alice-1"]
    page = browser.get(f"/dashboard/submissions/{sid}").text
    form = elements(page, "form", id="resend-passback-form")
    assert form and form[0]["action"] == f"/dashboard/submissions/{sid}/passback"
    before = len(world.dispatcher.messages)
    response = browser.post(form[0]["action"], data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert response.headers["location"] == f"/dashboard/submissions/{sid}?done=passback"
    assert [m.kind for m in world.dispatcher.messages[before:]] == ["passback"]
    hostile = seeded.ids["hostile-1"]
    refused = browser.post(f"/dashboard/submissions/{hostile}/passback", data={"csrf_token": csrf_of(page)},
                           follow_redirects=False)
    assert refused.headers["location"] == f"/dashboard/submissions/{hostile}?error=no-passback"


def _recent(browser: TestClient) -> dict[str, tuple[str, str]]:
    """batch id -> (state attribute, the line's text) of "Recent regrades"."""
    page = browser.get("/dashboard/assignments/layers").text
    lines = re.findall(r'<li data-batch="([0-9a-f]+)" data-state="([a-z_]+)">(.*?)</li>', page)
    return {batch: (state, re.sub(r"<[^>]+>", "", text)) for batch, state, text in lines}


def test_recent_regrades_label_each_batch_by_its_state(browser: TestClient, seeded: Seeded) -> None:
    """A rolled-back preview is labelled rolled back, not preview; a refused action is an alert, not a change."""
    location = _regrade(browser, scope="latest", preview="on")
    batch_id = location.rsplit("/", 1)[1]
    assert _recent(browser)[batch_id][0] == "running"
    seeded.room.grade_batch(batch_id)
    assert _recent(browser)[batch_id][0] == "preview"
    for action, state in (("publish", "published"), ("rollback", "rolled_back")):
        page = browser.get(location).text
        done = browser.post(f"{location}/{action}", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
        assert done.status_code == 303 and "done=" in done.headers["location"]
        assert _recent(browser)[batch_id][0] == state
    label = _recent(browser)[batch_id][1]
    assert "rolled back" in label and "preview" not in label
    page = browser.get(location).text
    assert elements(page, "dd", id="batch-state", data_phase="rolled_back")
    assert not elements(page, "form", id="cancel-form") and not elements(page, "form", id="rollback-form")
    assert elements(page, "form", id="publish-form"), "a rolled-back batch can be published again"
    refused = browser.post(f"{location}/cancel", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert refused.headers["location"] == f"{location}?error=batch-conflict"
    assert _recent(browser)[batch_id][0] == "rolled_back", "cancelling an ended batch changes nothing"
