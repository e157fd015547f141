"""Request bodies of the regrade endpoints; responses are the domain's `BatchView`."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from grader.services.regrade import OnlyStatus, Scope

StudentId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")]


class RegradeBody(BaseModel):
    """The same filters as `grader regrade`; an empty body regrades each student's latest submission."""

    model_config = ConfigDict(extra="forbid")

    only_status: OnlyStatus | None = Field(default=None, description="error: newest run ended error; failed: "
                                                                      "current score below full marks")
    since: datetime | None = Field(default=None, description="only submissions received at or after this time")
    students: list[StudentId] = Field(default_factory=list, max_length=10_000, description="only these student ids")
    scope: Scope = Field(default=Scope.LATEST, description="latest, best or all submissions of each student")
    preview: bool = Field(default=False, description="compute new scores and the summary without making them "
                                                     "current or passing them back; publish later")
