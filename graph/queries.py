from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Action, FeedKind, RecordStatus, RecordType, Role, Status
from graph.mutations.credentials import UpdateCredentialInput, spec_of
from graph.types.api_token import ApiToken
from graph.types.assignment import CredentialAssignment
from graph.types.audit import AuditEvent
from graph.types.catalogue import Course, Enrollment, Label
from graph.types.connection import Connection
from graph.types.credential import Credential, CredentialUpdatePreview
from graph.types.criteria import CriteriaGroup, Requirement
from graph.types.dashboard import CURRENT, AssignmentOrder, ComplianceSummary
from graph.types.extension import ExtensionRequest
from graph.types.feed import FeedEvent
from graph.types.group import Group
from graph.types.imports import Import
from graph.types.node import NODE_TYPES, Node
from graph.types.notification import Notification
from graph.types.organization import Organization
from graph.types.record import TrainingRecord
from graph.types.time import PeriodInput
from graph.types.user import User
from graph.types.webhook import Webhook, WebhookDelivery
from resolvers import api_tokens as token_resolvers
from resolvers import assignment_lists, auth, catalogue, credentials, dashboard, records
from resolvers import audit as audit_resolvers
from resolvers import extensions as extension_resolvers
from resolvers import feed as feed_resolvers
from resolvers import groups as group_resolvers
from resolvers import imports as import_resolvers
from resolvers import users as user_resolvers
from resolvers import webhooks as webhook_resolvers
from resolvers.clock import as_utc
from resolvers.errors import not_found
from resolvers.listing import Criteria, SortField

ENTITIES = (
    User,
    Organization,
    Label,
    Course,
    Enrollment,
    Credential,
    CredentialAssignment,
    Requirement,
    CriteriaGroup,
    TrainingRecord,
    Notification,
    Webhook,
)


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; `NOT_FOUND` if you cannot see it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, db_id = ids.decode(id, field="id")
        info.context.viewer  # noqa: B018 -- authenticate before revealing anything
        entity = NODE_TYPES.get(type_name)
        found = await entity.load(info, db_id) if entity else None
        if found is None:
            raise not_found(f"the {type_name}", field="id")
        return found

    @strawberry.field(description="The caller's organization (an API token's too).")
    async def organization(self, info: Info) -> Organization:
        found = await Organization.load(info, info.context.viewer.org_id)
        assert found is not None, "a caller's organization exists while they can sign in"
        return found

    @strawberry.field(description="The caller (a person: an API token is no one).")
    def me(self, info: Info) -> User:
        return User.from_record(auth.require_person(info.context.viewer))

    @strawberry.field(
        description="Administrators, managers and READ tokens: the organization's credentials; "
        "learners: those assigned to them. Archived ones only on request."
    )
    async def credentials(
        self,
        info: Info,
        include_archived: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Credential]:
        ctx = info.context
        page = await credentials.credential_page(
            ctx.db, ctx.viewer, include_archived=include_archived, first=first, after=after
        )
        return Connection.of(page, Credential.from_record)

    @strawberry.field
    async def credential(self, info: Info, id: strawberry.ID) -> Credential:
        found = await Credential.load(info, ids.db_id(id, expect="Credential", field="id"))
        if found is None:
            raise not_found("the credential", field="id")
        return found

    @strawberry.field(
        description="Administrators and READ tokens: the organization's records (filter by "
        "learner; `status: PENDING` is the review queue, oldest first). Managers: their "
        "members' and their own. Learners: their own."
    )
    async def training_records(
        self,
        info: Info,
        status: RecordStatus | None = None,
        type: RecordType | None = None,
        learner: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TrainingRecord]:
        ctx = info.context
        owner = None
        if learner is not None:
            owner = await ctx.loaders.users_by_id.load(
                ids.db_id(learner, expect="User", field="learner")
            )
            if owner is None:
                raise not_found("the learner", field="learner")
        page = await records.record_page(
            ctx.db,
            ctx.viewer,
            learner=owner,
            status=status,
            type=type,
            first=first,
            after=after,
        )
        return Connection.of(page, TrainingRecord.from_record)

    @strawberry.field(
        description="Administrators and READ tokens (managers: of their members): compliance "
        "counts at `asOf` (default now), for one "
        "credential or all; `expiringWithin` (default 30 days) sets the expiring/due horizon.",
    )
    async def compliance_summary(
        self,
        info: Info,
        credential: strawberry.ID | None = None,
        as_of: datetime | None = None,
        expiring_within: PeriodInput | None = None,
    ) -> ComplianceSummary:
        ctx = info.context
        credential_id = None
        if credential is not None:
            found = await Credential.load(
                info, ids.db_id(credential, expect="Credential", field="credential")
            )
            if found is None:
                raise not_found("the credential", field="credential")
            credential_id = found.record.id
        moment = ctx.when(as_of)
        result = await dashboard.compliance_summary(
            ctx.db,
            ctx.loaders.cycles_in_scope.load,
            ctx.viewer,
            credential_id=credential_id,
            as_of=moment.at,
            expiring_within=expiring_within.to_period("expiringWithin")
            if expiring_within
            else None,
        )
        ctx.lasts(moment, result.changes)
        return ComplianceSummary.of(result, live=moment.live)

    @strawberry.field(
        description="Administrators and READ tokens (managers: their members'): the "
        "organization's cycles. Status, `dueBefore` (not "
        "completed, due by then: overdue and not yet available ones included) and "
        "`expiringBefore` (valid, lapsing by then) are judged at `asOf`; keyset-paginated in "
        "`orderBy` order (cycles without a validUntil last, first when descending).",
    )
    async def assignments(
        self,
        info: Info,
        credential: strawberry.ID | None = None,
        learner: strawberry.ID | None = None,
        status: Status | None = None,
        as_of: datetime | None = None,
        due_before: datetime | None = None,
        expiring_before: datetime | None = None,
        order_by: AssignmentOrder | None = None,
        current: Annotated[bool, strawberry.argument(description=CURRENT)] = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CredentialAssignment]:
        ctx = info.context
        order = order_by or AssignmentOrder()
        moment = ctx.when(as_of)
        credential_id = learner_id = None
        if credential is not None:  # as complianceSummary: a filter names something that is
            credential_id = ids.db_id(credential, expect="Credential", field="credential")
            if await ctx.loaders.credentials_by_id.load(credential_id) is None:
                raise not_found("the credential", field="credential")
        if learner is not None:
            learner_id = ids.db_id(learner, expect="User", field="learner")
            if await ctx.loaders.users_by_id.load(learner_id) is None:
                raise not_found("the learner", field="learner")
        criteria = Criteria(
            as_of=moment.at,
            credential_id=credential_id,
            learner_id=learner_id,
            status=Status(status) if status else None,
            due_before=as_utc(due_before, field="dueBefore") if due_before else None,
            expiring_before=as_utc(expiring_before, field="expiringBefore")
            if expiring_before
            else None,
            current=current,
        )
        listed = await assignment_lists.organization_assignments(
            ctx.loaders.cycles_in_scope.load,
            ctx.viewer,
            criteria,
            order=SortField(order.field),
            descending=order.descending,
            first=first,
            after=after,
        )
        ctx.lasts(moment, listed.changes)
        return Connection.of(listed.page, CredentialAssignment.from_record)

    @strawberry.field(
        description="Administrators (and READ tokens): the organization's people; managers: "
        "the members of their groups. Oldest first; `search` finds a part of a name or email "
        "in any letter case; `group` keeps a group's members. Deactivated users only when asked."
    )
    async def users(
        self,
        info: Info,
        search: str | None = None,
        role: Role | None = None,
        group: strawberry.ID | None = None,
        include_deactivated: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[User]:
        ctx = info.context
        group_id = ids.db_id(group, expect="Group", field="group") if group else None
        page = await user_resolvers.user_page(
            ctx.db, ctx.viewer, search=search, role=role, group_id=group_id,
            include_deactivated=include_deactivated, first=first, after=after,
        )  # fmt: skip
        return Connection.of(page, User.from_record)

    @strawberry.field(
        description="Administrators and READ tokens: everything that happened in the "
        "organization, in one order that never changes — assignments, completions, records "
        "submitted and decided, extensions, exemptions, and cycles falling overdue or "
        "expiring. Keep the `cursor` of the last event handled and ask again `after` it: "
        "nothing is missed or repeated, across restarts. `kinds` keeps some kinds only."
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        first: int | None = None,
        kinds: list[FeedKind] | None = None,
    ) -> Connection[FeedEvent]:
        ctx = info.context
        page = await feed_resolvers.events_page(
            ctx.db, ctx.viewer, after=after, first=first, kinds=kinds
        )
        return Connection.of(page, FeedEvent.from_record)

    @strawberry.field(description="Administrators: the organization's webhooks.")
    async def webhooks(self, info: Info) -> list[Webhook]:
        ctx = info.context
        return [Webhook.from_record(w) for w in await webhook_resolvers.listed(ctx.db, ctx.viewer)]

    @strawberry.field(
        description="Administrators (and READ tokens): every attempt to deliver to a webhook, "
        "newest first, with the receiver's status or what went wrong."
    )
    async def webhook_deliveries(
        self, info: Info, webhook: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        ctx = info.context
        page = await webhook_resolvers.deliveries_page(
            ctx.db, ctx.viewer, ids.db_id(webhook, expect="Webhook", field="webhook"),
            first=first, after=after,
        )  # fmt: skip
        return Connection.of(page, WebhookDelivery.from_record)

    @strawberry.field(
        description="Administrators: who changed what, when and why — one event per thing an "
        "administrator or manager changed, newest first. `subject` keeps one thing's events "
        "(any global id), `actor` one person's, `action` one kind; `since` (inclusive) and "
        "`until` (exclusive) bound `at`."
    )
    async def audit_log(
        self,
        info: Info,
        subject: strawberry.ID | None = None,
        actor: strawberry.ID | None = None,
        action: Action | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEvent]:
        ctx = info.context
        page = await audit_resolvers.log_page(
            ctx.db,
            ctx.viewer,
            subject_id=ids.decode(subject, field="subject")[1] if subject is not None else None,
            actor_id=ids.db_id(actor, expect="User", field="actor") if actor is not None else None,
            action=action,
            since=as_utc(since, field="since", up=True) if since else None,
            until=as_utc(until, field="until", up=True) if until else None,
            first=first,
            after=after,
        )
        return Connection.of(page, AuditEvent.from_record)

    @strawberry.field(
        description="Administrators (and READ tokens): the organization's CSV imports of "
        "training history (`POST /imports`), newest first."
    )
    async def imports(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Import]:
        ctx = info.context
        page = await import_resolvers.import_page(ctx.db, ctx.viewer, first=first, after=after)
        return Connection.of(page, Import.from_record)

    @strawberry.field(
        description="Every group for administrators (and READ tokens); for anyone else, the "
        "groups they manage or belong to. Oldest first."
    )
    async def groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Group]:
        ctx = info.context
        page = await group_resolvers.group_page(ctx.db, ctx.viewer, first=first, after=after)
        return Connection.of(page, Group.from_record)

    @strawberry.field(
        description="Administrators: which open cycles an edit of a credential would change, "
        "and how, were it applied to them (`updateCredential(applyToOpenCycles: true)`); "
        "nothing is changed."
    )
    async def preview_credential_update(
        self, info: Info, input: UpdateCredentialInput
    ) -> CredentialUpdatePreview:
        ctx = info.context
        preview = await credentials.preview_update(
            ctx.db, ctx.viewer, ids.db_id(input.id, expect="Credential", field="id"),
            spec_of(input), now=ctx.now,
        )  # fmt: skip
        return CredentialUpdatePreview.of(preview)

    @strawberry.field(
        description="Requests for a later due date waiting for a decision, oldest first: all "
        "of them for administrators (and READ tokens), a manager's members' and their own, a "
        "learner's own."
    )
    async def extension_requests(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ExtensionRequest]:
        ctx = info.context
        page = await extension_resolvers.requests_page(ctx.db, ctx.viewer, first=first, after=after)
        return Connection.of(page, ExtensionRequest.from_record)

    @strawberry.field(
        description="Administrators: the organization's API tokens, oldest first (revoked "
        "ones on request). Secrets are never shown again."
    )
    async def api_tokens(self, info: Info, include_revoked: bool = False) -> list[ApiToken]:
        ctx = info.context
        found = await token_resolvers.listed(ctx.db, ctx.viewer, include_revoked=include_revoked)
        return [ApiToken.from_record(t) for t in found]

    @strawberry.field(description="The course catalogue: courses and learning paths.")
    async def courses(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Course]:
        ctx = info.context
        page = await catalogue.course_page(ctx.db, ctx.viewer, first=first, after=after)
        return Connection.of(page, Course.from_record)

    @strawberry.field
    async def labels(self, info: Info) -> list[Label]:
        ctx = info.context
        return [
            Label.from_record(label) for label in await catalogue.all_labels(ctx.db, ctx.viewer)
        ]
