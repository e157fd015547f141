"""Integrity flags in words: a locked cell from an earlier release is labelled as such, and it is neither counted
nor filtered as a tamper; an edit still is."""

from fastapi.testclient import TestClient
from sqlalchemy import select

from grader.dashboard.flags import flag_label, tampers
from grader.db import session_scope
from grader.models import GradingRun
from tests.api.conftest import ApiWorld
from tests.dashboard.conftest import EDITED_FLAG, HOSTILE, Seeded, elements

OUTDATED_FLAG = "locked_cell_outdated:test-matmul-immediate"


def _flag_bob(world: ApiWorld, seeded: Seeded) -> None:
    """bob's latest submission holds the first release's copy of a locked test."""
    with session_scope(world.factory) as session:
        run = session.scalars(select(GradingRun).where(GradingRun.submission_id == seeded.ids["bob-2"],
                                                       GradingRun.is_current)).one()
        run.integrity_flags = [OUTDATED_FLAG]


def test_labels_name_the_kind_and_the_cell() -> None:
    outdated, edited = flag_label(OUTDATED_FLAG), flag_label(EDITED_FLAG)
    assert (outdated.kind, outdated.cell, outdated.tamper) == ("locked_cell_outdated", "test-matmul-immediate", False)
    assert "earlier release" in outdated.text and "not an edit" in outdated.text
    assert (edited.text, edited.tamper) == ("Locked cell edited", True)
    assert flag_label("something_new").text == "something_new", "an unknown kind is shown as its code"
    assert tampers([OUTDATED_FLAG, EDITED_FLAG, "harness_channel_corrupted"]) == [EDITED_FLAG,
                                                                                   "harness_channel_corrupted"]


def test_the_submission_page_says_earlier_release(browser: TestClient, world: ApiWorld, seeded: Seeded) -> None:
    _flag_bob(world, seeded)
    page = browser.get(f"/dashboard/submissions/{seeded.ids['bob-2']}").text
    [item] = elements(page, "li", data_flag=OUTDATED_FLAG)
    assert item["data-kind"] == "locked_cell_outdated" and item["class"] == "flag-outdated"
    assert "Locked cell from an earlier release" in page
    edited = browser.get(f"/dashboard/submissions/{seeded.ids['alice-2']}").text
    assert elements(edited, "li", data_flag=EDITED_FLAG, **{"class": "flag-tamper"})
    assert "Locked cell edited" in edited


def test_only_flagged_and_the_flag_count_leave_an_earlier_release_out(browser: TestClient, world: ApiWorld,
                                                                      seeded: Seeded) -> None:
    _flag_bob(world, seeded)
    flagged = browser.get("/dashboard/assignments/layers?flagged=1").text
    students = [row["data-student"] for row in elements(flagged, "tr") if "data-student" in row]
    assert "bob" not in students and "alice" in students
    page = browser.get("/dashboard/assignments/layers").text
    assert elements(page, "span", data_flag=OUTDATED_FLAG, data_kind="locked_cell_outdated")
    bob_cell = page.split('data-student="bob"', 1)[1].split("</tr>", 1)[0]
    assert 'data-col="flags" data-value="0"' in bob_cell and "flagged</span>" not in bob_cell
    assert "earlier release" in bob_cell
    alice_cell = page.split('data-student="alice"', 1)[1].split("</tr>", 1)[0]
    assert 'data-value="1"' in alice_cell and "1 flagged" in alice_cell
    assert HOSTILE not in page, "still escaped"
