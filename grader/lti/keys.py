"""The tool's RSA keys: generated here, private halves encrypted at rest, public halves served as a JWKS."""

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.errors import ToolKeyUnavailable
from grader.logs import log_event
from grader.models import LtiToolKey
from grader.models.base import utcnow

KEY_BITS = 2048
SIGNING_ALGORITHM = "RS256"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign, with the kid that the published JWKS names it by."""

    kid: str
    private_pem: bytes


def fernet_for(settings: Settings) -> Fernet:
    """The explicit key when set; else one derived from the passback secret (itself refused when weak)."""
    if settings.lti_key_secret:
        return Fernet(settings.lti_key_secret.encode("ascii"))
    digest = hashlib.sha256(b"tinytorch-grader-lti-keys." + settings.passback_secret.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _public_jwk(private: rsa.RSAPrivateKey) -> tuple[str, dict[str, Any]]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    thumbprint = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(thumbprint.encode()).digest()).decode().rstrip("=")
    return kid, {**jwk, "kid": kid, "alg": SIGNING_ALGORITHM, "use": "sig"}


def rotate_tool_key(session: Session, settings: Settings) -> LtiToolKey:
    """A fresh key signs from now on; the previous ones are retired but stay published for the overlap."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    kid, jwk = _public_jwk(private)
    now = utcnow()
    for old in session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))):
        old.retired_at = now
    key = LtiToolKey(kid=kid, private_key_encrypted=fernet_for(settings).encrypt(pem).decode("ascii"),
                     public_jwk=jwk, created_at=now)
    session.add(key)
    session.flush()
    log_event(logger, "lti_tool_key_rotated", kid=kid)
    return key


def ensure_tool_key(session: Session, settings: Settings) -> LtiToolKey:
    """The signing key, generated on first use so a new installation needs no extra step."""
    key = _active(session)
    return key if key is not None else rotate_tool_key(session, settings)


def _active(session: Session) -> LtiToolKey | None:
    return session.scalar(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))
                          .order_by(LtiToolKey.created_at.desc()).limit(1))


def signing_key(session: Session, settings: Settings) -> SigningKey:
    key = _active(session)
    if key is None:
        raise ToolKeyUnavailable("the LTI tool has no key yet: run `grader lti rotate-key` (or register a platform)")
    try:
        pem = fernet_for(settings).decrypt(key.private_key_encrypted.encode("ascii"))
    except InvalidToken as exc:
        raise ToolKeyUnavailable(f"tool key {key.kid} cannot be decrypted: GRADER_LTI_KEY_SECRET (or the passback "
                                 "secret it is derived from) changed since it was made; rotate the key") from exc
    return SigningKey(kid=key.kid, private_pem=pem)


def tool_jwks(session: Session, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The active key and those retired within the overlap, newest first."""
    since = utcnow() - timedelta(hours=settings.lti_key_overlap_hours)
    keys = session.scalars(select(LtiToolKey).where(or_(LtiToolKey.retired_at.is_(None),
                                                        LtiToolKey.retired_at >= since))
                           .order_by(LtiToolKey.created_at.desc()))
    return {"keys": [dict(key.public_jwk) for key in keys]}
