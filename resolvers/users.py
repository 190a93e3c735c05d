"""Organizations and their people: bootstrap, user creation, lookups that respect visibility."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from resolvers import audit
from resolvers.audit import Action
from resolvers.auth import (
    Caller,
    can_see_user,
    require_admin,
    require_reader,
    require_viewer,
)
from resolvers.errors import Code, DomainError, busy, invalid, not_found
from resolvers.groups import drop_manager, visible
from resolvers.pages import Cursors, Page
from store import groups, organizations, users
from store.audit import Event
from store.database import Database
from store.errors import Conflict
from store.groups import Group
from store.organizations import Organization
from store.users import Role, User

NAMELESS = {"Cc", "Cf", "Co", "Cs"}  # characters no name needs …
JOINERS = {"\u200c", "\u200d"}  # … but the joiners some scripts are written with
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MAX_NAME = 200
MAX_EMAIL = 254
MAX_SEARCH = 200  # a search longer than any name or email finds nothing anyway
RETRIES = 3  # reads and conditional writes, when others keep changing the user in between


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    name: str
    role: Role


def normal_email(email: str) -> str:
    """One spelling per address: Unicode compatibility forms folded (a full-width letter is its
    ASCII one) and letter case folded, so look-alike duplicates meet as equals."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def validate_email(email: str) -> str:
    email = normal_email(email)
    if not email:
        raise DomainError(Code.REQUIRED, "an email is required", field="email")
    if len(email) > MAX_EMAIL:
        raise DomainError(
            Code.TOO_LONG, f"an email has at most {MAX_EMAIL} characters", field="email"
        )
    if not EMAIL.fullmatch(email):
        raise DomainError(Code.INVALID_EMAIL, f"{email!r} is not an email address", field="email")
    return email


def clean_name(name: str) -> str:
    """Whitespace folded and control and format characters (a NUL, a right-to-left override)
    dropped: a name is shown in lists, notifications and other people's screens."""
    kept = (c for c in name if c in JOINERS or unicodedata.category(c) not in NAMELESS)
    return " ".join("".join(kept).split())


def validate_name(name: str) -> str:
    name = clean_name(name)
    if not name:
        raise DomainError(Code.REQUIRED, "a name is required", field="name")
    if len(name) > MAX_NAME:
        raise DomainError(Code.TOO_LONG, f"a name has at most {MAX_NAME} characters", field="name")
    return name


def validate_new_user(email: str, name: str, role: Role) -> NewUser:
    """Normalised fields, or the first problem as a `DomainError` naming its field."""
    return NewUser(email=validate_email(email), name=validate_name(name), role=role)


async def _insert(
    db: Database, org_id: str, new: NewUser, now: datetime, event: Event | None = None
) -> User:
    try:
        return await users.create(
            db, org_id=org_id, email=new.email, name=new.name, role=new.role, now=now, event=event
        )
    except Conflict as error:
        raise DomainError(
            Code.EMAIL_TAKEN, f"{new.email} already belongs to a user here", field="email"
        ) from error


async def create_user(
    db: Database, viewer: Caller | None, *, email: str, name: str, role: Role, now: datetime
) -> User:
    admin = require_admin(viewer)
    new = validate_new_user(email, name, role)
    fields = {"email": new.email, "name": new.name, "role": new.role.value}
    made = audit.event(admin, Action.CREATE_USER, "User", now=now, changes=audit.created(fields))
    return await _insert(db, admin.org_id, new, now, made)


async def user_page(
    db: Database,
    viewer: Caller | None,
    *,
    search: str | None,
    role: Role | None,
    group_id: str | None,
    include_deactivated: bool,
    first: int | None,
    after: str | None,
) -> Page[User]:
    """The organization's people (a manager's: their members), found by name or email, in a
    group, oldest first."""
    caller = require_reader(viewer)
    within = caller.within
    if group_id is not None:
        group = await groups.get(db, org_id=caller.org_id, id=group_id)
        if group is None or not visible(caller, group):
            raise not_found("the group", field="group")
        within = (
            frozenset(group.member_ids) & within
            if within is not None
            else frozenset(group.member_ids)
        )
    where = users.UserFilter(
        caller.org_id,
        _search(search),
        role,
        include_deactivated,
        None if within is None else tuple(sorted(within)),
    )
    cursors = Cursors("users", where)
    size, last = cursors.keyset(first, after)
    fetched = await users.page(db, where, after=last, limit=size + 1)
    return Page.of(fetched, size, await users.count(db, where), lambda u: cursors.encode(u.id))


def _search(search: str | None) -> str | None:
    found = (search or "").strip() or None
    if found is not None and len(found) > MAX_SEARCH:
        raise invalid(Code.TOO_LONG, f"a search has at most {MAX_SEARCH} characters", "search")
    return found


async def group_members(
    db: Database, viewer: Caller, group: Group, *, first: int | None, after: str | None
) -> Page[User]:
    """A group's members the caller may see: all of them for its readers and managers
    (`Caller.sees`), else the caller alone."""
    members = [m for m in group.member_ids if viewer.sees(m)]
    where = users.UserFilter(group.org_id, ids=tuple(sorted(members)))
    cursors = Cursors("members", group.id, where.ids)
    size, last = cursors.keyset(first, after)
    fetched = await users.page(db, where, after=last, limit=size + 1)
    return Page.of(fetched, size, await users.count(db, where), lambda u: cursors.encode(u.id))


async def update_user(
    db: Database,
    viewer: Caller | None,
    user_id: str,
    *,
    name: str | None,
    email: str | None,
    role: Role | None,
    now: datetime,
) -> User:
    """Administrators: a user's name, email or role (not their own role: an organization keeps
    the administrator who is changing it)."""
    admin = require_admin(viewer)
    wanted: dict[str, str] = {}
    if name is not None:
        wanted["name"] = validate_name(name)
    if email is not None:
        wanted["email"] = validate_email(email)
    if role is not None:
        if user_id == admin.id and role is not admin.role:
            raise invalid(Code.OWN_ROLE, "you cannot change your own role", "role")
        wanted["role"] = role.value
    for _ in range(RETRIES):
        user = await _user(db, admin, user_id)
        was = {"name": user.name, "email": user.email, "role": user.role.value}
        fields = {k: v for k, v in wanted.items() if was[k] != v}
        if not fields:
            return user
        if fields.get("role", Role.MANAGER) != Role.MANAGER:
            # first: were the role's change lost, they would manage nothing
            await drop_manager(db, admin, user_id, now=now)
        changes = audit.diff(was, fields)
        made = audit.event(
            admin, Action.UPDATE_USER, "User", subject_id=user_id, now=now, changes=changes
        )
        try:
            found = await users.update(db, user=user, fields=fields, event=made)
        except Conflict as error:
            raise invalid(
                Code.EMAIL_TAKEN, f"{email} already belongs to a user here", "email"
            ) from error
        if found is not None:
            return found
    raise busy("the user", field="user")


async def deactivate_user(
    db: Database, viewer: Caller | None, user_id: str, *, now: datetime
) -> User:
    """Administrators: switch a user off — their tokens stop at once, their history stays."""
    admin = require_admin(viewer)
    if user_id == admin.id:
        raise invalid(Code.CANNOT_DEACTIVATE_SELF, "you cannot deactivate yourself", "user")
    return await _disabled(db, admin, user_id, at=now, now=now)


async def reactivate_user(
    db: Database, viewer: Caller | None, user_id: str, *, now: datetime
) -> User:
    """Administrators: switch a deactivated user back on (their old tokens work again only if
    still unexpired and not revoked)."""
    return await _disabled(db, require_admin(viewer), user_id, at=None, now=now)


async def _disabled(
    db: Database, admin: User, user_id: str, *, at: datetime | None, now: datetime
) -> User:
    """A user switched off (`at`) or on (None); one already so is left as they are."""
    action = Action.DEACTIVATE_USER if at is not None else Action.REACTIVATE_USER
    for _ in range(RETRIES):
        user = await _user(db, admin, user_id)
        if (user.disabled_at is None) == (at is None):
            return user
        changes = audit.diff({"deactivatedAt": user.disabled_at}, {"deactivatedAt": at})
        made = audit.event(admin, action, "User", subject_id=user_id, now=now, changes=changes)
        if found := await users.set_disabled(db, user=user, at=at, event=made):
            return found
    raise busy("the user", field="user")


async def _user(db: Database, admin: User, user_id: str) -> User:
    found = await users.get(db, org_id=admin.org_id, id=user_id)
    if found is None:
        raise not_found("the user", field="user")
    return found


async def revoke_user_tokens(
    db: Database, viewer: Caller | None, user_id: str, *, now: datetime
) -> User:
    """Sign a user out everywhere: yourself, or (administrators) anyone of the organization
    (an API token is no user: it is never itself, and never an administrator)."""
    caller = require_viewer(viewer)
    made = None
    if user_id != caller.id:
        admin = require_admin(viewer)
        made = audit.event(admin, Action.REVOKE_USER_TOKENS, "User", subject_id=user_id, now=now)
    found = await users.revoke_tokens(db, org_id=caller.org_id, id=user_id, event=made)
    if found is None:
        raise not_found("the user", field="user")
    return found


async def bootstrap(
    db: Database, *, org_name: str, admin_email: str, admin_name: str | None, now: datetime
) -> tuple[Organization, User]:
    """A new organization and its first administrator, or nothing at all."""
    org_name = " ".join(org_name.split())
    if not org_name:
        raise DomainError(Code.REQUIRED, "an organization name is required", field="org")
    new = validate_new_user(admin_email, admin_name or admin_email.split("@")[0], Role.ADMIN)
    if await organizations.find_by_name(db, name=org_name):
        raise DomainError(Code.NAME_TAKEN, f"an organization named {org_name!r} already exists")
    org = await organizations.create(db, name=org_name, now=now)
    try:
        admin = await _insert(db, org.id, new, now)
    except BaseException:
        await organizations.delete(db, id=org.id)
        raise
    return org, admin


async def find_for_token(db: Database, *, email: str, org_name: str | None = None) -> User:
    """The one user a `credgraph token EMAIL [--org NAME]` call means."""
    email = normal_email(email)
    org_id = None
    if org_name is not None:
        orgs = await organizations.find_by_name(db, name=org_name)
        if not orgs:
            raise DomainError(Code.NOT_FOUND, f"no organization is named {org_name!r}")
        org_id = orgs[0].id
    found = await users.find_by_email(db, email=email, org_id=org_id)
    if not found:
        raise DomainError(Code.NOT_FOUND, f"no user has the email {email}")
    if len(found) > 1:
        raise DomainError(
            Code.AMBIGUOUS,
            f"{email} belongs to users in {len(found)} organizations; name one with --org",
        )
    if found[0].disabled_at is not None:
        raise DomainError(Code.FORBIDDEN, f"{email} has been deactivated")
    return found[0]


async def visible_user(
    viewer: Caller, load: Callable[[str], Awaitable[User | None]], id: str
) -> User | None:
    user = await load(id)
    return user if user is not None and can_see_user(viewer, user) else None
