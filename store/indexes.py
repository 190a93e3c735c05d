"""Every index credgraph needs, created idempotently at start-up.

Each index on tenant data begins with `orgId`: every hot query filters on it, and it is the
shard key when a deployment outgrows one replica set.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from store import outbox


def _index(*keys: str, name: str, **options: object) -> IndexModel:
    return IndexModel([(key, ASCENDING) for key in keys], name=name, **options)


TENANT_COLLECTIONS = (
    "users",
    "groups",
    "apiTokens",
    "labels",
    "courses",
    "credentials",
    "assignments",
    "enrollments",
    "records",
    "notifications",
    "reminders",
    "extensionRequests",
    "webhooks",
    "signingKeys",
    "imports",
)

INDEXES: dict[str, list[IndexModel]] = {
    "organizations": [
        # A token's issuer finds its organizations; issuer and audience name one of them.
        # Sparse, not partial: SecantusDB plans no query on a partial index.
        _index(
            "singleSignOn.issuer",
            "singleSignOn.audience",
            name="sso_issuer_audience",
            unique=True,
            sparse=True,
        )
    ],
    "users": [
        _index("orgId", "email", name="org_email", unique=True),
        _index("orgId", "role", name="org_role"),
        _index("orgId", "disabledAt", name="org_deactivated"),  # who leaves the counts
    ],
    "groups": [
        _index("orgId", "key", name="org_name", unique=True),
        _index("orgId", "managerIds", name="org_managers"),  # whom a manager manages
        _index("orgId", "memberIds", name="org_members"),  # who manages a learner
    ],
    "apiTokens": [_index("secretHash", name="secret", unique=True)],  # every token's request
    "labels": [_index("orgId", "key", name="org_name", unique=True)],
    "courses": [
        _index("orgId", "courseIds", name="org_path_courses"),
        # Unique titles (in any letter case); courses made before the rule have no key.
        _index(
            "orgId",
            "key",
            name="org_title",
            unique=True,
            partialFilterExpression={"key": {"$exists": True}},
        ),
    ],
    "credentials": [_index("orgId", "versions.nodeIds", name="org_criteria_nodes")],
    "assignments": [
        _index("orgId", "credentialId", "learnerId", "cycle", name="org_cycle", unique=True),
        _index("orgId", "learnerId", "credentialId", "cycle", name="org_learner_cycles"),
        _index("orgId", "changedAt", name="org_changed"),  # what changed since (`store.scopes`)
        _index("orgId", "edition", name="org_edition"),  # the status lists' set bits
    ],
    # The key that signs is the newest: numbers are given once (`store.signing_keys`).
    "signingKeys": [_index("orgId", "number", name="org_number", unique=True)],
    # A credential's place in its status list, given once, never to two credentials.
    "statusEntries": [
        _index("orgId", "assignmentId", "edition", name="org_cycle_edition", unique=True),
        _index("orgId", "index", name="org_index", unique=True),
    ],
    "enrollments": [
        _index(
            "orgId",
            "learnerId",
            "courseId",
            name="org_open_instance",
            unique=True,
            partialFilterExpression={"open": True},
        ),
        _index("orgId", "learnerId", "enrolledAt", name="org_learner_enrolled"),
    ],
    "records": [
        _index("orgId", "status", "submittedAt", "_id", name="org_review_queue"),
        _index("orgId", "learnerId", "submittedAt", name="org_learner_records"),
        _index("orgId", "credentialId", "status", name="org_credential_records"),
        # An imported row's record, once per organization however often the file comes: its
        # key digests the organization too, so the index needs no `orgId` to keep tenants
        # apart, and is sparse (the embedded database reads through no partial index).
        _index("importKey", name="import_key", unique=True, sparse=True),
        _index(
            "orgId",
            "submittedBy",
            "learnerId",
            "idempotencyKey",
            name="org_idempotency_learner",
            unique=True,
            partialFilterExpression={"idempotencyKey": {"$exists": True}},
        ),
    ],
    "notifications": [
        _index("orgId", "userId", "readAt", "_id", name="org_user_inbox"),
        # A reminder's notification, once per recipient however often it is delivered.
        _index(
            "orgId",
            "key",
            name="org_key",
            unique=True,
            partialFilterExpression={"key": {"$exists": True}},
        ),
    ],
    "reminders": [_index("pending", name="pending", sparse=True)],
    "imports": [_index("running", name="running", sparse=True)],  # what a restart resumes
    # A row's result once, however often its batch is written (a resumed import).
    "importRows": [_index("orgId", "importId", "line", name="org_import_line", unique=True)],
    "extensionRequests": [
        # One request waits per cycle at a time.
        _index(
            "orgId",
            "assignmentId",
            name="org_waiting",
            unique=True,
            partialFilterExpression={"waiting": True},
        ),
        _index("orgId", "status", "_id", name="org_queue"),
        _index("unapplied", name="unapplied", sparse=True),  # grants a crash kept from a cycle
    ],  # what a crash left undelivered
}


# The log, one thing's, one person's: read newest first by walking these backwards. Ascending
# keys, not descending: SecantusDB ends a scan of a descending key before an inclusive lower
# bound (`$gte`), as it does an ascending one before `$lte`.
INDEXES["auditEvents"] = [
    _index("orgId", "at", "_id", name="org_at"),
    _index("orgId", "about", "at", "_id", name="org_about_at"),
    _index("orgId", "actorId", "at", "_id", name="org_actor_at"),
]
INDEXES["webhooks"] = [_index("orgId", "deleted", name="org_webhooks")]
INDEXES["webhookDeliveries"] = [_index("orgId", "webhookId", "_id", name="org_webhook_attempts")]
INDEXES["feed"] = [_index("orgId", "seq", name="org_seq", unique=True)]  # one event a number
INDEXES["feedOutbox"] = [_index("orgId", "queuedAt", "_id", name="org_queued")]
# Letters a process died before copying out of the documents they were written with
# (`store.outbox.repair`): sparse, so only the few waiting are indexed.
for _collection in sorted(set(outbox.COLLECTIONS.values())):
    INDEXES.setdefault(_collection, []).append(
        _index(f"{outbox.PENDING}._id", name="outbox_pending", sparse=True)
    )


# Lookups by id within an organization. MongoDB would use `_id_`; SecantusDB plans
# `{orgId, _id}` on the first `orgId`-prefixed index (a scan of the organization) unless an
# index covers both, and ignores hints.
for _collection in TENANT_COLLECTIONS:
    INDEXES[_collection].append(_index("orgId", "_id", name="org_id"))


# Indexes an earlier version made that no longer fit (a key now scoped to caller and learner)
# or serve nothing (lists are sorted from one read of their scope: `resolvers.listing`).
OBSOLETE = {
    "records": ["org_idempotency", "org_import_key"],
    "statusEntries": ["org_cycle"],  # one entry per cycle, before editions
    "assignments": [
        "org_learner_due",
        "org_credential_due_id",
        "org_credential_valid_id",
        "org_due_id",
        "org_valid_id",
        "org_start_id",
        "org_assigned_id",
    ],
}


async def _editions(db: AsyncDatabase) -> None:
    """Before editions (`store.assignments.narrowed`) a revoked cycle's status bit was set by
    its revocation alone: such a cycle is past its first edition, or its credential would
    verify again."""
    await db.assignments.update_many(
        {"revocation.at": {"$exists": True}, "edition": {"$exists": False}},
        {"$set": {"edition": 1}},
    )


# Data an earlier version wrote, brought up to date before the index that marks it goes (once;
# again, harmlessly, if a process dies in between).
UPGRADES = {("statusEntries", "org_cycle"): _editions}


async def ensure_indexes(db: AsyncDatabase) -> None:
    """Create what is missing (an existing identical index is left alone by the server) and
    drop what an earlier version made that would now refuse good writes or serves nothing."""
    for collection, names in OBSOLETE.items():
        existing = {index["name"] async for index in await db[collection].list_indexes()}
        for name in set(names) & existing:
            if upgrade := UPGRADES.get((collection, name)):
                await upgrade(db)
            await db[collection].drop_index(name)
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)
