"""Users, logins, web sessions and API tokens.

Login throttling: after ``login_max_failures`` consecutive failures an account is locked for
``login_lockout_minutes``; the message never says whether the username exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency, PartnerFramework, get_agency
from liaison.core.audit import Outcome
from liaison.core.clock import utcnow
from liaison.core.errors import NotAuthenticated, NotFound, TooManyRequests, ValidationFailed
from liaison.core.markings import Classification
from liaison.core.policy import Capability, can, can_manage_users_of, framework_allows_personal_data
from liaison.core.settings import Settings, get_settings
from liaison.identity.model import ApiToken, User, WebSession
from liaison.identity.passwords import check_strength, hash_password, needs_rehash, verify_password

TOKEN_PREFIX = "lia_"  # noqa: S105 - a public prefix that marks Liaison tokens, not a secret
LOGIN_FAILED = "Unknown username or wrong password, or the account is locked or inactive."


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_for(user: User, purpose: str | None = None) -> Actor:
    """The Actor a user acts as."""
    agency: Agency = user.agency
    framework = PartnerFramework(agency.framework)
    return Actor(
        user_id=user.id,
        username=user.username,
        agency_id=agency.id,
        agency_code=agency.code,
        framework=framework,
        accreditation=Classification(agency.accreditation),
        roles=user.roles,
        purpose=purpose,
        personal_data_allowed=framework_allows_personal_data(
            framework, agency.personal_data_basis
        ).allowed,
    )


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            roles.add(Role(value))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValidationFailed(f"unknown role {value!r}; known roles: {known}") from None
    if not roles:
        raise ValidationFailed("a user needs at least one role")
    return frozenset(roles)


def create_user(
    session: Session,
    actor: Actor | None,
    *,
    agency_id: str,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[Role],
    email: str | None = None,
) -> User:
    """Create a user. ``actor`` None is the command line run by the operator of the node."""
    if actor is not None:
        can_manage_users_of(actor, agency_id).enforce()
    get_agency(session, agency_id)
    username = username.strip().lower()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise ValidationFailed("usernames are 1–100 characters without spaces")
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed(f"username {username!r} is taken")
    problem = check_strength(password)
    if problem:
        raise ValidationFailed(problem)
    user = User(
        agency_id=agency_id,
        username=username,
        display_name=display_name.strip() or username,
        email=(email or "").strip() or None,
        password_hash=hash_password(password),
        roles_csv="",
        active=True,
        failed_logins=0,
    )
    user.roles = frozenset(roles)
    if not user.roles_csv:
        raise ValidationFailed("a user needs at least one role")
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        agency_id=agency_id,
        detail={"username": username, "roles": user.roles_csv, "agency_id": agency_id},
    )
    return user


def list_users(session: Session, actor: Actor, agency_id: str | None = None) -> Sequence[User]:
    """Users the actor may manage (own agency; every agency for the hub)."""
    query = select(User).order_by(User.username)
    if agency_id is not None:
        can_manage_users_of(actor, agency_id).enforce()
        query = query.where(User.agency_id == agency_id)
    elif actor.is_hub:
        can(actor, Capability.MANAGE_USERS).enforce()
    else:
        can_manage_users_of(actor, actor.agency_id).enforce()
        query = query.where(User.agency_id == actor.agency_id)
    return session.scalars(query).all()


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def deactivate_user(session: Session, actor: Actor, user_id: str) -> User:
    """Deactivate a user: ends their sessions and revokes their tokens."""
    user = get_user(session, user_id)
    can_manage_users_of(actor, user.agency_id).enforce()
    if user.id == actor.user_id:
        raise ValidationFailed("you cannot deactivate yourself")
    user.active = False
    now = utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        token.revoked_at = token.revoked_at or now
    for web in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        web.revoked_at = web.revoked_at or now
    audit.record(session, actor, "user.deactivate", object_type="user", object_id=user.id)
    return user


def authenticate_password(
    session: Session,
    username: str,
    password: str,
    *,
    settings: Settings | None = None,
    source: str | None = None,
) -> User:
    """The user for these credentials; raises NotAuthenticated or TooManyRequests (locked)."""
    settings = settings or get_settings()
    now = utcnow()
    username = username.strip().lower()
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record(
            session,
            None,
            "auth.login",
            outcome=Outcome.DENIED,
            username=username,
            agency_id=user.agency_id,
            detail={"reason": "locked", "source": source},
        )
        raise TooManyRequests(LOGIN_FAILED)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= settings.login_max_failures:
                user.locked_until = now + dt.timedelta(minutes=settings.login_lockout_minutes)
                user.failed_logins = 0
        audit.record(
            session,
            None,
            "auth.login",
            outcome=Outcome.DENIED,
            username=username,
            agency_id=user.agency_id if user else None,
            detail={"reason": "bad credentials or inactive", "source": source},
        )
        raise NotAuthenticated(LOGIN_FAILED)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, actor_for(user), "auth.login", detail={"source": source})
    return user


# ── Web sessions ───────────────────────────────────────────────────────────────────────────


def start_web_session(
    session: Session, user: User, *, settings: Settings | None = None
) -> tuple[str, WebSession]:
    """A new browser session; returns the cookie secret (shown once) and the row."""
    settings = settings or get_settings()
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    web = WebSession(
        id_hash=_sha256(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(minutes=settings.session_max_age_minutes),
    )
    session.add(web)
    return secret, web


def resolve_web_session(
    session: Session, secret: str, *, settings: Settings | None = None
) -> WebSession | None:
    """The live session for a cookie secret, sliding its expiry; None when unknown or ended."""
    settings = settings or get_settings()
    web = session.get(WebSession, _sha256(secret))
    now = utcnow()
    if web is None or web.revoked_at is not None or web.expires_at <= now or not web.user.active:
        return None
    web.last_seen_at = now
    web.expires_at = now + dt.timedelta(minutes=settings.session_max_age_minutes)
    return web


def end_web_session(session: Session, secret: str) -> None:
    web = session.get(WebSession, _sha256(secret))
    if web is not None and web.revoked_at is None:
        web.revoked_at = utcnow()
        audit.record(session, actor_for(web.user), "auth.logout")


# ── API tokens ─────────────────────────────────────────────────────────────────────────────


def issue_token(
    session: Session,
    actor: Actor,
    *,
    user_id: str,
    name: str,
    days: int | None = None,
    settings: Settings | None = None,
) -> tuple[str, ApiToken]:
    """Issue a bearer token; the secret is returned once and only its hash is stored.

    Users issue their own tokens; administrators issue (reset) tokens for users they manage.
    """
    settings = settings or get_settings()
    user = get_user(session, user_id)
    if user.id == actor.user_id:
        can(actor, Capability.MANAGE_OWN_TOKENS).enforce()
    else:
        can_manage_users_of(actor, user.agency_id).enforce()
    if not user.active:
        raise ValidationFailed("the user is deactivated")
    days = settings.token_max_days if days is None else days
    if not 1 <= days <= settings.token_max_days:
        raise ValidationFailed(f"token lifetime must be 1–{settings.token_max_days} days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip()[:100] or "token",
        prefix=secret[:10],
        token_hash=_sha256(secret),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "token.issue",
        object_type="api_token",
        object_id=token.id,
        detail={"user_id": user.id, "days": days, "name": token.name},
    )
    return secret, token


def revoke_token(session: Session, actor: Actor, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.user_id != actor.user_id:
        can_manage_users_of(actor, token.user.agency_id).enforce()
    token.revoked_at = token.revoked_at or utcnow()
    audit.record(session, actor, "token.revoke", object_type="api_token", object_id=token.id)
    return token


def reset_tokens(session: Session, actor: Actor, user_id: str) -> tuple[str, ApiToken]:
    """Revoke every token of a user and issue a fresh one (administration: "reset token")."""
    user = get_user(session, user_id)
    can_manage_users_of(actor, user.agency_id).enforce()
    now = utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        token.revoked_at = token.revoked_at or now
    return issue_token(session, actor, user_id=user.id, name="reset by administrator")


def authenticate_token(session: Session, secret: str) -> User:
    """The user of a bearer token; NotAuthenticated if unknown, expired, revoked or inactive."""
    if not secret.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("malformed bearer token")
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(secret)))
    now = utcnow()
    if token is None:
        raise NotAuthenticated("unknown bearer token")
    if token.revoked_at is not None:
        raise NotAuthenticated("this token was revoked")
    if token.expires_at <= now:
        raise NotAuthenticated("this token has expired")
    if not token.user.active:
        raise NotAuthenticated("the token's user is deactivated")
    token.last_used_at = now
    return token.user


def list_tokens(session: Session, actor: Actor, user_id: str) -> Sequence[ApiToken]:
    user = get_user(session, user_id)
    if user.id != actor.user_id:
        can_manage_users_of(actor, user.agency_id).enforce()
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ).all()
