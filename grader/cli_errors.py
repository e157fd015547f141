"""How the command line answers a domain error: its sentence on stderr and its own exit code (grader.errors), for
every command at once, so no command catches and maps errors itself."""

from typing import Any

import typer
from typer.core import TyperGroup

from grader.errors import GraderError


class AnswersDomainErrors(TyperGroup):
    """The root command group: any GraderError a command raises ends the process with `error: <detail>` and the
    error's exit code (2 for a request the grader refuses, 1 for a failure of its own)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            from grader.cli_output import printable

            typer.echo(f"error: {printable(exc.detail)}", err=True)
            raise typer.Exit(exc.exit_code) from None
