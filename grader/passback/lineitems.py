"""The gradebook column of a resource link: found before it is created, so relaunches never duplicate it."""

from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.models import LtiLaunch
from grader.passback.channel import Answer

LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
TAG_PREFIX = "tinytorch-grader:"


class LineItemError(Exception):
    """Finding or creating the line item got an answer that is not a line item: carries the classified answer
    from the lookup to the channel, which turns it into the delivery's outcome (it never leaves the channel)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.error or "line item lookup failed")
        self.answer = answer


def resolve_lineitem(session: Session, launch: LtiLaunch, *, client: httpx.Client, token: str,
                     score_maximum: float, classify: Callable[[httpx.Response], Answer],
                     lock: Callable[[str], AbstractContextManager[None]]) -> str:
    """The launch's own line item when the platform gave one; else the one of this resource link in the
    container, created once under a lock shared by workers, and remembered for every launch of the link."""
    if launch.lineitem_url:
        return launch.lineitem_url
    if not launch.lineitems_url:
        raise LineItemError(_final("the launch carried no AGS line item or line items URL: enable Assignment "
                                   "and Grade Services for this tool in the platform"))
    with lock(f"grader:lti:lineitem:{launch.platform_id}:{launch.resource_link_id}"):
        session.refresh(launch, ["lineitem_url"])
        if launch.lineitem_url:
            return launch.lineitem_url
        found = _find(launch, client, token, classify) or _create(launch, client, token, score_maximum, classify)
        session.execute(update(LtiLaunch).where(LtiLaunch.platform_id == launch.platform_id,
                                                LtiLaunch.resource_link_id == launch.resource_link_id,
                                                LtiLaunch.lineitem_url.is_(None)).values(lineitem_url=found)
                        .execution_options(synchronize_session=False))
        launch.lineitem_url = found
        session.flush()
        return found


def _headers(token: str, accept: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


def _find(launch: LtiLaunch, client: httpx.Client, token: str,
          classify: Callable[[httpx.Response], Answer]) -> str | None:
    assert launch.lineitems_url is not None
    response = client.get(launch.lineitems_url, params={"resource_link_id": launch.resource_link_id},
                          headers=_headers(token, CONTAINER_MEDIA_TYPE))
    if not response.is_success:
        raise LineItemError(classify(response))
    document = response.json()
    items = document.get("content", document) if isinstance(document, dict) else document
    tag = TAG_PREFIX + launch.assignment
    mine = [item for item in items if isinstance(item, dict) and item.get("id")
            and item.get("resourceLinkId") in (None, launch.resource_link_id)
            and item.get("tag") in (None, "", tag)]
    mine.sort(key=lambda item: (item.get("resourceLinkId") != launch.resource_link_id, item.get("tag") != tag))
    return str(mine[0]["id"]) if mine else None


def _create(launch: LtiLaunch, client: httpx.Client, token: str, score_maximum: float,
            classify: Callable[[httpx.Response], Answer]) -> str:
    assert launch.lineitems_url is not None
    body = {"label": launch.assignment, "scoreMaximum": score_maximum or 1.0, "resourceLinkId":
            launch.resource_link_id, "resourceId": launch.assignment, "tag": TAG_PREFIX + launch.assignment}
    response = client.post(launch.lineitems_url, json=body,
                           headers={**_headers(token, LINEITEM_MEDIA_TYPE), "Content-Type": LINEITEM_MEDIA_TYPE})
    if not response.is_success:
        raise LineItemError(classify(response))
    created = response.json()
    if not isinstance(created, dict) or not created.get("id"):
        raise LineItemError(_final("the platform created a line item but did not say its id"))
    return str(created["id"])


def _final(message: str) -> Answer:
    return Answer(None, message, retryable=False)
