"""Every mutation takes one `input` and returns a payload with `userErrors`."""

from __future__ import annotations

from strawberry.tools import merge_types

from graph.mutations.api_tokens import ApiTokenMutations
from graph.mutations.assignments import AssignmentMutations
from graph.mutations.catalogue import CatalogueMutations
from graph.mutations.credentials import CredentialMutations
from graph.mutations.enrollments import EnrollmentMutations
from graph.mutations.exemptions import ExemptionMutations
from graph.mutations.extensions import ExtensionMutations
from graph.mutations.groups import GroupMutations
from graph.mutations.notifications import NotificationMutations
from graph.mutations.organizations import OrganizationMutations
from graph.mutations.overrides import OverrideMutations
from graph.mutations.records import RecordMutations
from graph.mutations.signing import SigningMutations
from graph.mutations.users import UserMutations
from graph.mutations.webhooks import WebhookMutations

Mutation = merge_types(
    "Mutation",
    (
        UserMutations,
        GroupMutations,
        ApiTokenMutations,
        OrganizationMutations,
        SigningMutations,
        CatalogueMutations,
        CredentialMutations,
        AssignmentMutations,
        ExemptionMutations,
        ExtensionMutations,
        OverrideMutations,
        EnrollmentMutations,
        RecordMutations,
        NotificationMutations,
        WebhookMutations,
    ),
)
