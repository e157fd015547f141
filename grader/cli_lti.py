"""`grader lti`: register a course with an LTI 1.3 platform, list registrations, rotate the tool key."""

from typing import TYPE_CHECKING, Annotated

import typer

from grader.errors import GraderError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from grader.config import Settings

lti_app = typer.Typer(help="LTI 1.3 Advantage: platform registrations and the tool's keys.", no_args_is_help=True)


def _factory(settings: "Settings") -> "sessionmaker[Session]":
    from grader.runtime_context import ensure_embedded_schema, session_factory

    if not settings.database_url:
        ensure_embedded_schema(settings)
    return session_factory(settings)


@lti_app.command("register")
def register_command(
    course: Annotated[str, typer.Option(help="The course id the platform's launches belong to")],
    issuer: Annotated[str, typer.Option(help="The platform's issuer (Canvas: https://canvas.instructure.com)")],
    client_id: Annotated[str, typer.Option(help="The client id the platform gave this tool")],
    deployment_id: Annotated[list[str], typer.Option(help="A deployment id (repeat for several)")],
    auth_login_url: Annotated[str, typer.Option(help="The platform's OIDC authorization URL")],
    token_url: Annotated[str, typer.Option(help="The platform's OAuth2 token URL")],
    jwks_url: Annotated[str, typer.Option(help="The platform's public keyset URL")],
) -> None:
    """Register (or update) the platform of a course; prints the id and the tool's key id."""
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.lti.keys import ensure_tool_key
    from grader.lti.registration import PlatformRegistration, register_platform

    settings = get_settings()
    registration = PlatformRegistration(issuer=issuer, client_id=client_id, deployment_ids=deployment_id,
                                        auth_login_url=auth_login_url, token_url=token_url, jwks_url=jwks_url)
    try:
        with session_scope(_factory(settings)) as session:
            platform = register_platform(session, settings, course=course, registration=registration)
            typer.echo(f"registered platform {platform.id} for course {course} "
                       f"(tool key {ensure_tool_key(session, settings).kid})")
    except GraderError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@lti_app.command("platforms")
def platforms_command(course: Annotated[str | None, typer.Option(help="Only this course")] = None) -> None:
    """List the registered platforms."""
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.lti.registration import course_platforms

    with session_scope(_factory(get_settings())) as session:
        for platform in course_platforms(session, course):
            typer.echo(f"{platform.id}  {platform.course_id}  {platform.issuer}  client {platform.client_id}  "
                       f"deployments {','.join(platform.deployment_ids)}")


@lti_app.command("rotate-key")
def rotate_key_command() -> None:
    """A new tool key signs from now on; the old one stays in the JWKS for GRADER_LTI_KEY_OVERLAP_HOURS."""
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.lti.keys import rotate_tool_key

    settings = get_settings()
    with session_scope(_factory(settings)) as session:
        typer.echo(f"new tool key {rotate_tool_key(session, settings).kid}")


def register(app: typer.Typer) -> None:
    app.add_typer(lti_app, name="lti")
