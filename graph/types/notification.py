from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import NotificationKind
from graph.types.assignment import CredentialAssignment
from graph.types.node import Node, entity
from graph.types.record import TrainingRecord
from graph.types.webhook import Webhook
from resolvers import notifications as inbox
from store import notifications
from store.notifications import SubjectType

NotificationSubject = Annotated[
    TrainingRecord | CredentialAssignment | Webhook, strawberry.union("NotificationSubject")
]


@entity
@strawberry.type(description="Something that happened that the user should know about.")
class Notification(Node):
    kind: NotificationKind
    created_at: datetime
    read_at: datetime | None
    record: strawberry.Private[notifications.Notification]

    @classmethod
    def from_record(cls, notification: notifications.Notification) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Notification", notification.id)),
            kind=notification.kind,
            created_at=notification.created_at,
            read_at=notification.read_at,
            record=notification,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        found = await inbox.one(info.context.db, info.context.viewer, db_id)
        return cls.from_record(found) if found else None

    @strawberry.field(description="The record or credential it is about.")
    async def subject(self, info: Info) -> NotificationSubject | None:
        if self.record.subject_type is SubjectType.TRAINING_RECORD:
            return await TrainingRecord.load(info, self.record.subject_id)
        if self.record.subject_type is SubjectType.WEBHOOK:
            return await Webhook.load(info, self.record.subject_id)
        return await CredentialAssignment.load(info, self.record.subject_id)
