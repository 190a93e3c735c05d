"""Groups: the teams a manager answers for. Administrators make and change them; a manager's
reach (`Caller.members`) is read from them on every request, so an edit applies at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from resolvers import audit
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.errors import Code, DomainError, busy, invalid, not_found
from resolvers.pages import Cursors, Page
from resolvers.text import required
from store import groups, users
from store.audit import Change
from store.database import Database
from store.errors import Conflict
from store.groups import Group, GroupChange
from store.users import Role, User

MAX_NAME = 200
MAX_PEOPLE = 5_000  # people named in one call
RETRIES = 3  # reads and conditional writes, when others keep editing the group in between
PEOPLE = {"members": "User", "managers": "User"}  # what a group's lists hold


async def create_group(
    db: Database,
    viewer: Caller | None,
    *,
    name: str,
    member_ids: list[str],
    manager_ids: list[str],
    now: datetime,
) -> Group:
    admin = require_admin(viewer)
    name = required(name, field="name", limit=MAX_NAME)
    await _people(db, admin.org_id, member_ids, field="members")
    await _people(db, admin.org_id, manager_ids, field="managers", managers=True)
    members, managers = list(dict.fromkeys(member_ids)), list(dict.fromkeys(manager_ids))
    changes = audit.created({"name": name, "members": members, "managers": managers}, PEOPLE)
    made = audit.event(
        admin, Action.CREATE_GROUP, "Group", now=now, changes=changes,
        related=tuple(dict.fromkeys([*members, *managers])),
    )  # fmt: skip
    try:
        return await groups.create(
            db,
            org_id=admin.org_id,
            name=name,
            member_ids=members,
            manager_ids=managers,
            now=now,
            event=made,
        )
    except Conflict as error:
        raise invalid(Code.NAME_TAKEN, f"a group is already named {name!r}", "name") from error


async def update_group(
    db: Database, viewer: Caller | None, group_id: str, change: GroupChange, *, now: datetime
) -> Group:
    """Rename a group, or add and remove members and managers, in one atomic update."""
    admin = require_admin(viewer)
    if change.name is not None:
        change = replace(change, name=required(change.name, field="name", limit=MAX_NAME))
    await _people(db, admin.org_id, change.add_members, field="addMembers")
    await _people(db, admin.org_id, change.add_managers, field="addManagers", managers=True)
    found = await _changed(db, admin, group_id, change, now=now)
    if found is None:
        raise not_found("the group", field="group")
    return found


async def drop_manager(db: Database, admin: User, manager_id: str, *, now: datetime) -> None:
    """Take someone who is no longer a manager off every group they managed, each change of
    a group audited as the administrator's, for the role change made it."""
    for group in await groups.managed_by(db, org_id=admin.org_id, manager_id=manager_id):
        await _changed(
            db, admin, group.id, GroupChange(remove_managers=(manager_id,)), now=now,
            reason="no longer a manager",
        )  # fmt: skip


async def _changed(
    db: Database,
    admin: User,
    group_id: str,
    change: GroupChange,
    *,
    now: datetime,
    reason: str | None = None,
) -> Group | None:
    """The group with `change` made, read and made again while others edit it; None when
    there is no such group."""
    for _ in range(RETRIES):
        was = await groups.get(db, org_id=admin.org_id, id=group_id)
        if was is None:
            return None
        group = replace(
            was,
            name=was.name if change.name is None else change.name,
            member_ids=_edited(was.member_ids, change.add_members, change.remove_members),
            manager_ids=_edited(was.manager_ids, change.add_managers, change.remove_managers),
        )
        if group == was:
            return was
        changes = (
            *audit.diff({"name": was.name}, {"name": group.name}),
            *_moved("members", was.member_ids, group.member_ids),
            *_moved("managers", was.manager_ids, group.manager_ids),
        )
        moved = {p for c in changes if c.field != "name" for p in c.after}
        made = audit.event(
            admin, Action.UPDATE_GROUP, "Group", subject_id=was.id, now=now, reason=reason,
            changes=changes, related=tuple(sorted(moved)),
        )  # fmt: skip
        try:
            found = await groups.update(db, was=was, now=group, event=made)
        except Conflict as error:
            raise invalid(
                Code.NAME_TAKEN, f"a group is already named {change.name!r}", "name"
            ) from error
        if found is not None:
            return found
    raise busy("the group", field="group")


def _moved(name: str, was: tuple[str, ...], now: tuple[str, ...]) -> tuple[Change, ...]:
    """Who joined and who left a list (not the whole list: a group may hold thousands)."""
    joined, left = [p for p in now if p not in was], [p for p in was if p not in now]
    return tuple(
        Change(f"{name}{verb}", None, people, "User")
        for verb, people in (("Added", joined), ("Removed", left))
        if people
    )


def _edited(
    people: tuple[str, ...], added: Iterable[str], removed: Iterable[str]
) -> tuple[str, ...]:
    """`people` with `added` joined at the end and `removed` taken out, each once."""
    gone = set(removed)
    return tuple(p for p in dict.fromkeys((*people, *added)) if p not in gone)


async def _people(
    db: Database, org_id: str, ids: Iterable[str], *, field: str, managers: bool = False
) -> None:
    """Every id names a user of the organization (and a manager, for `managers`)."""
    wanted = set(ids)
    if len(wanted) > MAX_PEOPLE:
        raise invalid(Code.TOO_MANY, f"at most {MAX_PEOPLE} people at once", field)
    if not wanted:
        return
    found = {u.id: u for u in await users.get_many(db, org_id=org_id, ids=sorted(wanted))}
    if missing := wanted - found.keys():
        raise DomainError(Code.UNKNOWN_USER, f"no such user: {min(missing)}", field=field)
    if managers and (others := [u for u in found.values() if u.role is not Role.MANAGER]):
        raise invalid(
            Code.NOT_A_MANAGER,
            f"{others[0].email} is not a manager (give them the MANAGER role first)",
            field,
        )


def visible(caller: Caller, group: Group) -> bool:
    """Administrators and `READ` see every group; others the groups they manage or are in."""
    return caller.reads_organization or caller.id in (*group.member_ids, *group.manager_ids)


async def group_page(
    db: Database, viewer: Caller, *, first: int | None, after: str | None
) -> Page[Group]:
    """Every group for administrators and `READ`; for anyone else, theirs."""
    ids: list[str] | None = None
    if not viewer.reads_organization:
        theirs = await groups.managed_by(db, org_id=viewer.org_id, manager_id=viewer.id)
        theirs += await groups.of_member(db, org_id=viewer.org_id, member_id=viewer.id)
        ids = sorted({g.id for g in theirs})
    cursors = Cursors("groups", ids)
    size, last = cursors.keyset(first, after)
    fetched = await groups.listed(db, org_id=viewer.org_id, ids=ids, after=last, limit=size + 1)
    total = await groups.count(db, org_id=viewer.org_id, ids=ids)
    return Page.of(fetched, size, total, lambda g: cursors.encode(g.id))


async def of_user(db: Database, viewer: Caller, user_id: str) -> list[Group]:
    """The groups a user belongs to, as far as the caller may see them."""
    found = await groups.of_member(db, org_id=viewer.org_id, member_id=user_id)
    return [g for g in found if visible(viewer, g)]
