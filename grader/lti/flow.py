"""The launch as two units of work: the login state is used up and committed first, then the id_token judged."""

from sqlalchemy.orm import Session, sessionmaker

from grader.config import Settings
from grader.db import session_scope
from grader.errors import LaunchRejected
from grader.lti.launch import LaunchResult, complete_launch
from grader.lti.login import consume_state
from grader.lti.platform_keys import PlatformKeys


def launch(factory: sessionmaker[Session], settings: Settings, keys: PlatformKeys, *, id_token: str | None,
           state: str | None) -> LaunchResult:
    """A failed validation still leaves the state used, so a replay of the same post is refused either way."""
    if not id_token or not state:
        raise LaunchRejected("the launch carried no id_token and state: open the assignment from the LMS")
    with session_scope(factory) as session:
        consumed = consume_state(session, state)
    with session_scope(factory) as session:
        return complete_launch(session, settings, id_token=id_token, consumed=consumed, keys=keys)
