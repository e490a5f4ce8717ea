"""Every access decision, in one place.

Deny by default: a function returns ``Decision(allowed=True, …)`` only on an explicit rule, and
every decision carries the reason a user or auditor reads. List queries filter with the same
functions (or with the SQL helpers here that express the same rule), never with rules of their own.

Sections: capabilities by role · partner frameworks and accreditation · records and hit/no-hit ·
administration and audit · (capabilities add their own sections below, one idea each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from liaison.core.actor import Actor, Role
from liaison.core.agencies import PartnerFramework
from liaison.core.errors import PermissionDenied
from liaison.core.markings import Classification, HandlingCode, Markings


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this actor do this to this thing?", with the reason why."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed

    def enforce(self) -> None:
        """Raise PermissionDenied with the reason unless allowed."""
        if not self.allowed:
            raise PermissionDenied(self.reason)


def allow(reason: str) -> Decision:
    return Decision(True, reason)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


def first_denial(*decisions: Decision) -> Decision:
    """All must allow; the first refusal wins; otherwise the last reason stands."""
    last = deny("no rule allows this")
    for decision in decisions:
        if not decision.allowed:
            return decision
        last = decision
    return last


# ── Capabilities by role ─────────────────────────────────────────────────────────────────────


class Capability(StrEnum):
    """Things a user may do, granted by role. Anything not listed is denied."""

    SEARCH = "search"
    CONTRIBUTE = "contribute"
    CHECK = "check"
    EXCHANGE = "exchange"
    ISSUE_ALERT = "issue_alert"
    HANDLE_HIT_REPORTS = "handle_hit_reports"
    SCREEN_PASSENGERS = "screen_passengers"
    ANALYSE = "analyse"
    REVIEW_IDENTITY_CONFLICTS = "review_identity_conflicts"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_AGENCIES = "manage_agencies"
    MANAGE_OWN_TOKENS = "manage_own_tokens"


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.OFFICER: frozenset(
        {
            Capability.SEARCH,
            Capability.CONTRIBUTE,
            Capability.CHECK,
            Capability.EXCHANGE,
            Capability.MANAGE_OWN_TOKENS,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Capability.SEARCH,
            Capability.CONTRIBUTE,
            Capability.EXCHANGE,
            Capability.ANALYSE,
            Capability.REVIEW_IDENTITY_CONFLICTS,
            Capability.MANAGE_OWN_TOKENS,
        }
    ),
    Role.PIU_OPERATOR: frozenset(
        {Capability.SCREEN_PASSENGERS, Capability.CHECK, Capability.MANAGE_OWN_TOKENS}
    ),
    Role.ALERT_MANAGER: frozenset(
        {
            Capability.ISSUE_ALERT,
            Capability.HANDLE_HIT_REPORTS,
            Capability.CHECK,
            Capability.SEARCH,
            Capability.EXCHANGE,
            Capability.REVIEW_IDENTITY_CONFLICTS,
            Capability.MANAGE_OWN_TOKENS,
        }
    ),
    Role.DPO: frozenset({Capability.VIEW_AUDIT, Capability.MANAGE_OWN_TOKENS}),
    Role.ADMIN: frozenset(
        {Capability.MANAGE_USERS, Capability.MANAGE_AGENCIES, Capability.MANAGE_OWN_TOKENS}
    ),
}

# Capabilities that let a user see personal data; refused to agencies that may not receive it.
PERSONAL_DATA_CAPABILITIES = frozenset(
    {
        Capability.SEARCH,
        Capability.CONTRIBUTE,
        Capability.CHECK,
        Capability.ISSUE_ALERT,
        Capability.HANDLE_HIT_REPORTS,
        Capability.SCREEN_PASSENGERS,
        Capability.ANALYSE,
        Capability.REVIEW_IDENTITY_CONFLICTS,
    }
)


def can(actor: Actor, capability: Capability) -> Decision:
    """May the actor use this capability at all (before looking at any particular object)?"""
    granting = sorted(r.value for r in actor.roles if capability in ROLE_CAPABILITIES.get(r, ()))
    if not granting:
        return deny(f"none of your roles grants {capability.value}")
    if capability is Capability.MANAGE_AGENCIES and not actor.is_hub:
        return deny("only the hub's administrators manage agencies and partner frameworks")
    return allow(f"granted by role {granting[0]}")


def capabilities(actor: Actor) -> frozenset[Capability]:
    """Everything the actor may do; the UI shows only these."""
    return frozenset(c for c in Capability if can(actor, c).allowed)


# ── Partner frameworks and accreditation ────────────────────────────────────────────────────


def framework_allows_personal_data(
    framework: PartnerFramework, personal_data_basis: str | None = None
) -> Decision:
    """Personal data only where an agreement or adequacy decision exists (Reg. 2016/794 Art. 25).

    A working arrangement never allows personal data (Art. 23(4)); an international organisation
    receives it only when the agreement that allows it is recorded on the agency.
    """
    if framework is PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT:
        return deny("a working arrangement allows no personal data")
    if framework is PartnerFramework.INTERNATIONAL_ORGANISATION:
        if personal_data_basis:
            return allow(f"international organisation under {personal_data_basis}")
        return deny("no agreement allowing personal data is recorded for this organisation")
    return allow(f"{framework.label} may receive personal data")


def within_accreditation(accreditation: Classification, classification: Classification) -> Decision:
    """Nothing above the recipient's accreditation level."""
    if classification > accreditation:
        return deny(
            f"classified {classification.name} but accredited only up to {accreditation.name}"
        )
    return allow(f"{classification.name} is within accreditation {accreditation.name}")


def can_receive(
    *,
    framework: PartnerFramework,
    accreditation: Classification,
    personal_data_basis: str | None,
    classification: Classification,
    contains_personal_data: bool,
) -> Decision:
    """May an agency receive information with this classification and content?"""
    decisions = [within_accreditation(accreditation, classification)]
    if contains_personal_data:
        decisions.append(framework_allows_personal_data(framework, personal_data_basis))
    return first_denial(*decisions)


# ── Records: full, hit/no-hit or nothing ────────────────────────────────────────────────────


class Visibility(StrEnum):
    """How much of a record a viewer gets."""

    FULL = "full"
    HIT_ONLY = "hit_only"  # that a match exists, its strength, owner and markings
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RecordDecision:
    visibility: Visibility
    reason: str

    @property
    def allowed(self) -> bool:
        return self.visibility is not Visibility.NONE


def record_visibility(
    actor: Actor,
    markings: Markings,
    *,
    personal_data: bool,
    minor: bool = False,
) -> RecordDecision:
    """What may this actor see of a record owned by ``markings.owner_agency_id``?

    Owners see their records in full. Others learn only that a match exists (hit/no-hit) and
    ask the owner for details. Minors' records are hit/no-hit only even inside searches that
    would otherwise show more (Reg. 2016/794 Art. 30(3)); H2 data is not disseminated; agencies
    under a working arrangement never see personal data; nothing above accreditation is shown.
    """
    if not (can(actor, Capability.SEARCH) or can(actor, Capability.CHECK)):
        return RecordDecision(Visibility.NONE, "your roles do not include searching records")
    fits = within_accreditation(actor.accreditation, markings.classification)
    if not fits:
        return RecordDecision(Visibility.NONE, fits.reason)
    if personal_data and not actor.personal_data_allowed:
        return RecordDecision(
            Visibility.NONE,
            f"your agency's framework ({actor.framework.label}) excludes personal data",
        )
    if markings.owner_agency_id == actor.agency_id:
        return RecordDecision(Visibility.FULL, "your agency owns this record")
    if minor:
        # The reason must not tell that the subject is a minor: the generic hit-only reason.
        return RecordDecision(Visibility.HIT_ONLY, _OTHER_OWNER)
    if markings.handling is HandlingCode.H2:
        return RecordDecision(
            Visibility.HIT_ONLY, "H2: not to be disseminated without the provider's permission"
        )
    return RecordDecision(Visibility.HIT_ONLY, _OTHER_OWNER)


_OTHER_OWNER = "another agency owns this record: details on request to the owner"


def can_change_record(actor: Actor, owner_agency_id: str) -> Decision:
    """Only the data owner changes or deletes its records."""
    contribute = can(actor, Capability.CONTRIBUTE)
    if not contribute:
        return contribute
    if owner_agency_id != actor.agency_id:
        return deny("only the data owner may change or delete this record")
    return allow("your agency owns this record")


# ── Administration and audit ────────────────────────────────────────────────────────────────


def can_manage_users_of(actor: Actor, agency_id: str) -> Decision:
    """Administrators manage their own agency's users; the hub's administrators manage all."""
    granted = can(actor, Capability.MANAGE_USERS)
    if not granted:
        return granted
    if agency_id == actor.agency_id:
        return allow("administrator of this agency")
    if actor.is_hub:
        return allow("hub administrator")
    return deny("administrators manage only their own agency's users")


def audit_scope(actor: Actor) -> Decision:
    """May the actor read the audit trail, and whose? (``reason`` names the scope)."""
    granted = can(actor, Capability.VIEW_AUDIT)
    if not granted:
        return granted
    if actor.is_hub:
        return allow("all agencies (hub data protection officer)")
    return allow("your agency only")


def audit_agency_filter(actor: Actor) -> str | None:
    """The agency id audit queries are limited to, or None for all (hub DPO). Deny → raises."""
    audit_scope(actor).enforce()
    return None if actor.is_hub else actor.agency_id


# ── Entities: the shared information system ─────────────────────────────────────────────────


def can_contribute(actor: Actor, *, personal_data: bool) -> Decision:
    """Contributing records: the capability, and personal data only where the framework allows."""
    granted = can(actor, Capability.CONTRIBUTE)
    if not granted:
        return granted
    if personal_data and not actor.personal_data_allowed:
        return deny(
            f"your agency's framework ({actor.framework.label}) excludes personal data, "
            "so it cannot contribute records holding it"
        )
    return granted


def can_search(actor: Actor) -> Decision:
    """The one search box: the search capability and a stated purpose."""
    granted = can(actor, Capability.SEARCH)
    if not granted:
        return granted
    if not (actor.purpose or "").strip():
        return deny("state the purpose of the search (it is recorded in the audit log)")
    return granted


def crossmatch_view(
    actor: Actor,
    *,
    own_owner_id: str,
    other: Markings,
    other_minor: bool,
    personal_data: bool,
) -> RecordDecision:
    """What a cross-match notification tells the owner of one side about the other side.

    FULL here means the notification itself: that a match exists, the entity type, the strength
    band, the other owner and its markings — never the other record's data. HIT_ONLY drops the
    strength and markings: the other side is a minor's record (Art. 30(3)) or H2 data, whose
    owner alone is told more. Agencies whose framework excludes personal data hear nothing of
    matches on personal data.
    """
    if own_owner_id != actor.agency_id:
        return RecordDecision(Visibility.NONE, "cross-matches are notified to the data owners only")
    if not (can(actor, Capability.CONTRIBUTE) or can(actor, Capability.SEARCH)):
        return RecordDecision(
            Visibility.NONE, "your roles include neither contributing nor searching records"
        )
    if personal_data and not actor.personal_data_allowed:
        return RecordDecision(
            Visibility.NONE,
            f"your agency's framework ({actor.framework.label}) excludes personal data",
        )
    fits = within_accreditation(actor.accreditation, other.classification)
    if not fits:
        return RecordDecision(Visibility.NONE, fits.reason)
    if other_minor or other.handling is HandlingCode.H2:
        # One reason for both, so that a hit-only notification does not tell which applies.
        return RecordDecision(
            Visibility.HIT_ONLY, "the other owner is told more: you see that a match exists"
        )
    return RecordDecision(Visibility.FULL, "both owners are told a match exists")


def can_request_details(actor: Actor, *, owner_agency_id: str) -> Decision:
    """Asking the data owner for the details behind a hit."""
    granted = can(actor, Capability.SEARCH)
    if not granted:
        granted = can(actor, Capability.CONTRIBUTE)
    if not granted:
        return granted
    if owner_agency_id == actor.agency_id:
        return deny("your agency owns this record: there is nobody to ask")
    return allow("details are asked of the data owner")


def can_review_identity_conflict(actor: Actor, owner_ids: tuple[str, str]) -> Decision:
    """Reviewers of an owning agency (or the hub) verify identity-conflict links."""
    granted = can(actor, Capability.REVIEW_IDENTITY_CONFLICTS)
    if not granted:
        return granted
    if actor.agency_id in owner_ids:
        return allow("your agency owns one of the linked records")
    if actor.is_hub:
        return allow("the hub verifies links between member agencies' records")
    return deny("only the owners of the linked records (or the hub) verify this link")


# ── Exchange: cases and messages ────────────────────────────────────────────────────────────


# Directive (EU) 2023/977 Art. 5(1): deadlines counted from receipt of the request.
URGENT_DIRECT = dt.timedelta(hours=8)
URGENT_INDIRECT_DAYS = 3
OTHER_DAYS = 7


@dataclass(frozen=True, slots=True)
class Deadline:
    at: dt.datetime
    rule: str


def request_deadline(
    *, urgent: bool, directly_accessible: bool, received_at: dt.datetime, zone: dt.tzinfo
) -> Deadline:
    """When a request must be answered (Directive (EU) 2023/977 Art. 5(1)).

    Urgent requests for directly accessible information: 8 hours. Urgent requests for indirectly
    accessible information: 3 calendar days. All others: 7 calendar days. Calendar days are
    counted on the requested agency's calendar (``zone``): the deadline falls at the same local
    time of day, so a daylight-saving change in between makes it 71 or 73 hours, not 72.
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    if urgent and directly_accessible:
        return Deadline(
            # Elapsed time, not wall-clock time: add in UTC.
            received_at.astimezone(dt.UTC) + URGENT_DIRECT,
            "8 hours: urgent, directly accessible information (Directive 2023/977 Art. 5(1)(a))",
        )
    days, rule = (
        (
            URGENT_INDIRECT_DAYS,
            "3 calendar days: urgent, indirectly accessible information "
            "(Directive 2023/977 Art. 5(1)(b))",
        )
        if urgent
        else (OTHER_DAYS, "7 calendar days: non-urgent request (Directive 2023/977 Art. 5(1)(c))")
    )
    local = received_at.astimezone(zone)
    wall = local.replace(tzinfo=None) + dt.timedelta(days=days)
    return Deadline(_from_wall_clock(wall, zone), rule)


def _from_wall_clock(wall: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A local wall-clock time as UTC; a time skipped by a DST change moves forward, an ambiguous
    one takes its first occurrence (the earlier deadline)."""
    aware = wall.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if back != wall:  # in the gap: the hour does not exist locally
        aware = (wall + dt.timedelta(hours=1)).replace(tzinfo=zone, fold=0)
    return aware.astimezone(dt.UTC)


def can_exchange(actor: Actor) -> Decision:
    """Sending and reading messages at all."""
    return can(actor, Capability.EXCHANGE)


def can_send(
    actor: Actor,
    *,
    classification: Classification,
    contains_personal_data: bool,
) -> Decision:
    """The sender's own side: the capability, its own accreditation and framework."""
    granted = can_exchange(actor)
    if not granted:
        return granted
    fits = within_accreditation(actor.accreditation, classification)
    if not fits:
        return deny(f"you may not send this: {fits.reason}")
    if contains_personal_data and not actor.personal_data_allowed:
        return deny(
            f"your agency's framework ({actor.framework.label}) excludes personal data, "
            "so it cannot send messages holding it"
        )
    return granted


def recipient_may_receive(
    *,
    agency_code: str,
    framework: PartnerFramework,
    accreditation: Classification,
    personal_data_basis: str | None,
    active: bool,
    classification: Classification,
    contains_personal_data: bool,
) -> Decision:
    """May this agency receive the message? The refusal names the agency and the rule."""
    if not active:
        return deny(f"{agency_code} is not an active agency on the network")
    decision = can_receive(
        framework=framework,
        accreditation=accreditation,
        personal_data_basis=personal_data_basis,
        classification=classification,
        contains_personal_data=contains_personal_data,
    )
    if not decision:
        return deny(f"{agency_code} may not receive this message: {decision.reason}")
    return allow(f"{agency_code}: {decision.reason}")


def can_read_message(
    actor: Actor,
    *,
    sender_agency_id: str,
    recipient_agency_ids: frozenset[str],
    classification: Classification,
    hub_copy: bool,
) -> Decision:
    """Only the sender, the recipients and (where configured) the hub read a message."""
    granted = can_exchange(actor)
    if not granted:
        return granted
    if actor.agency_id == sender_agency_id:
        reason = "your agency sent this message"
    elif actor.agency_id in recipient_agency_ids:
        reason = "your agency is a recipient of this message"
    elif hub_copy and actor.is_hub:
        reason = "the hub keeps a copy of every message (hub copy is configured)"
    else:
        return deny("only the sender and the recipients read this message")
    fits = within_accreditation(actor.accreditation, classification)
    if not fits:
        return fits
    return allow(reason)


def can_answer(
    actor: Actor, *, recipient_agency_ids: frozenset[str], sender_agency_id: str
) -> Decision:
    """Replies come from a recipient (answering) or from the sender (following up)."""
    granted = can_exchange(actor)
    if not granted:
        return granted
    if actor.agency_id in recipient_agency_ids or actor.agency_id == sender_agency_id:
        return allow("your agency takes part in this message")
    return deny("only the sender and the recipients reply to this message")


def can_acknowledge(actor: Actor, *, recipient_agency_ids: frozenset[str]) -> Decision:
    granted = can_exchange(actor)
    if not granted:
        return granted
    if actor.agency_id not in recipient_agency_ids:
        return deny("only a recipient acknowledges a message")
    return allow("your agency is a recipient")


def forward_needs_consent(
    actor: Actor, *, handling: HandlingCode, provider_agency_id: str
) -> Decision:
    """H2: not to be disseminated without the provider's permission. Allowed = consent needed."""
    if handling is HandlingCode.H2 and provider_agency_id != actor.agency_id:
        return allow("H2: the provider's permission is needed before this is passed on")
    return deny("no permission is needed from the provider")


def can_decide_consent(actor: Actor, *, provider_agency_id: str) -> Decision:
    """The provider of H2 information grants or refuses its onward dissemination."""
    granted = can_exchange(actor)
    if not granted:
        return granted
    if actor.agency_id != provider_agency_id:
        return deny("only the provider of the information decides on its dissemination")
    return allow("your agency provided this information")


def can_manage_case(actor: Actor, *, owner_agency_id: str) -> Decision:
    granted = can_exchange(actor)
    if not granted:
        return granted
    if actor.agency_id != owner_agency_id:
        return deny("only the agency that owns the case manages it")
    return allow("your agency owns this case")


def can_see_case(actor: Actor, *, participant_ids: frozenset[str]) -> Decision:
    """Participants see the case (and in it, the messages addressed to them)."""
    granted = can_exchange(actor)
    if not granted:
        return granted
    if actor.agency_id in participant_ids:
        return allow("your agency takes part in this case")
    return deny("your agency does not take part in this case")


def refusal_ground_allowed(ground: str | None, grounds: dict[str, str]) -> Decision:
    """A refusal states one of the configured grounds (default: Directive 2023/977 Art. 6)."""
    if not ground:
        return deny("a refusal must state its ground: choose one of " + ", ".join(grounds))
    if ground not in grounds:
        return deny(f"unknown refusal ground {ground!r}: choose one of " + ", ".join(grounds))
    return allow(grounds[ground])


# ── Alerts and checks ───────────────────────────────────────────────────────────────────────


def _alert_roles(actor: Actor) -> Decision:
    for capability in (Capability.CHECK, Capability.ISSUE_ALERT, Capability.HANDLE_HIT_REPORTS):
        granted = can(actor, capability)
        if granted:
            return granted
    return deny("none of your roles includes checks or alerts")


def can_issue_alert(
    actor: Actor, *, personal_data: bool, classification: Classification
) -> Decision:
    """Issuing an alert: the alert manager's capability, personal data only where the framework
    allows it, and no classification above the agency's accreditation."""
    granted = can(actor, Capability.ISSUE_ALERT)
    if not granted:
        return granted
    if personal_data and not actor.personal_data_allowed:
        return deny(
            f"your agency's framework ({actor.framework.label}) excludes personal data, "
            "so it cannot issue alerts holding it"
        )
    fits = within_accreditation(actor.accreditation, classification)
    if not fits:
        return fits
    return granted


def can_change_alert(actor: Actor, *, issuer_agency_id: str) -> Decision:
    """Only the issuing agency changes, reviews, extends or deletes its alerts."""
    granted = can(actor, Capability.ISSUE_ALERT)
    if not granted:
        return granted
    if issuer_agency_id != actor.agency_id:
        return deny("only the issuing agency may change, review or delete this alert")
    return allow("your agency issued this alert")


def can_flag_alert(actor: Actor, *, issuer_agency_id: str) -> Decision:
    """A member-state agency other than the issuer flags an alert so that its action is not
    executed on its territory (the flag shows on every hit there)."""
    granted = can(actor, Capability.ISSUE_ALERT)
    if not granted:
        granted = can(actor, Capability.HANDLE_HIT_REPORTS)
    if not granted:
        return granted
    if actor.framework is not PartnerFramework.MEMBER_STATE:
        return deny("only member-state agencies flag alerts")
    if issuer_agency_id == actor.agency_id:
        return deny("the issuing agency changes or deletes its own alert instead of flagging it")
    return allow("a member-state agency flags the action for its territory")


def can_check(actor: Actor, *, person: bool) -> Decision:
    """Checking a person or an object against alerts: the capability and a stated purpose (it is
    audited); person checks only where the framework allows personal data."""
    granted = can(actor, Capability.CHECK)
    if not granted:
        return granted
    if person and not actor.personal_data_allowed:
        return deny(
            f"your agency's framework ({actor.framework.label}) excludes personal data: "
            "person checks are not available to it"
        )
    if not (actor.purpose or "").strip():
        return deny("state the purpose of the check (it is recorded in the audit log)")
    return granted


def alert_view(
    actor: Actor,
    *,
    issuer_agency_id: str,
    person: bool,
    personal_data: bool,
    classification: Classification,
    diffusion_countries: Collection[str],
    actor_country: str | None,
) -> RecordDecision:
    """What an actor sees of an alert (on a hit, in a list, on its page).

    Alerts exist so that whoever finds the person or object acts on them: authorised users see
    them in full (subject, action, warnings). Nothing above accreditation is shown; agencies
    whose framework excludes personal data see nothing of person alerts and only the category
    and action of object alerts whose details hold personal data; a diffusion is seen only by
    the selected countries' agencies and the issuer.
    """
    roles = _alert_roles(actor)
    if not roles:
        return RecordDecision(Visibility.NONE, roles.reason)
    fits = within_accreditation(actor.accreditation, classification)
    if not fits:
        return RecordDecision(Visibility.NONE, fits.reason)
    if issuer_agency_id == actor.agency_id:
        return RecordDecision(Visibility.FULL, "your agency issued this alert")
    if personal_data and not actor.personal_data_allowed:
        excluded = f"your agency's framework ({actor.framework.label}) excludes personal data"
        if person:
            return RecordDecision(Visibility.NONE, excluded)
        return RecordDecision(Visibility.HIT_ONLY, f"{excluded}: category and action only")
    if diffusion_countries and (actor_country or "") not in diffusion_countries:
        return RecordDecision(
            Visibility.NONE, "a diffusion is visible only to the selected countries' agencies"
        )
    return RecordDecision(Visibility.FULL, "alerts are shared so that the action can be taken")


def alert_list_scope(actor: Actor) -> str | None:
    """Whose alerts the actor may list: its own agency's (alert management), every agency's
    for the hub (None). Others' alerts are found by checks, never browsed. Deny → raises."""
    _alert_roles(actor).enforce()
    return None if actor.is_hub else actor.agency_id


def can_confirm_hit(actor: Actor) -> Decision:
    """Confirming a hit and reporting it to the issuing agency: whoever may check and send
    messages (the hit report travels through the secure exchange)."""
    return first_denial(can(actor, Capability.CHECK), can(actor, Capability.EXCHANGE))


def can_answer_hit_report(actor: Actor, *, issuer_agency_id: str) -> Decision:
    """The issuing agency's hit-report handlers answer its hit reports."""
    granted = can(actor, Capability.HANDLE_HIT_REPORTS)
    if not granted:
        return granted
    if issuer_agency_id != actor.agency_id:
        return deny("only the issuing agency answers hit reports on its alerts")
    return allow("your agency issued the alert")


def can_record_hit_outcome(actor: Actor, *, checking_agency_id: str) -> Decision:
    """The checking agency records what it finally did about its hit."""
    granted = can(actor, Capability.CHECK)
    if not granted:
        return granted
    if checking_agency_id != actor.agency_id:
        return deny("only the agency that reported the hit records its outcome")
    return allow("your agency reported this hit")


def can_see_hit_report(actor: Actor, *, issuer_agency_id: str, checking_agency_id: str) -> Decision:
    """A hit report is seen by the issuing and the checking agency only."""
    roles = _alert_roles(actor)
    if not roles:
        return roles
    if actor.agency_id in (issuer_agency_id, checking_agency_id):
        return allow("your agency issued the alert or reported the hit")
    return deny("hit reports are seen by the issuing and the checking agency only")
