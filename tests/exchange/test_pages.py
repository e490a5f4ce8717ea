"""The secure exchange's pages: who sees what, markings unmistakable, refusals shown on the form
with nothing stored, CSRF on every form, the live counter, downloads and exports."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from liaison.core.clock import frozen, utcnow
from liaison.core.markings import Classification, HandlingCode
from liaison.exchange import service
from liaison.exchange.model import (
    ConsentRequest,
    Message,
    MessageRecipient,
    MessageType,
    Priority,
)
from liaison.exchange.service import AttachmentUpload, Draft
from tests.exchange.conftest import Net, draft
from tests.support.web import make_app, signed_in

PERSON = {
    "ref": "p1",
    "type": "Person",
    "evaluation": "B2",
    "properties": {"given_name": "Jan", "family_name": "de Vries", "dob": "1984-03-07"},
}
H1_WARNING = "Not for use in judicial proceedings without permission of the provider"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Site:
    net: Net
    de: TestClient
    nl: TestClient
    fr: TestClient
    dpo: TestClient

    def csrf(self, client: TestClient) -> str:
        return str(client.csrf)  # type: ignore[attr-defined]


@pytest.fixture
def site(net: Net) -> Site:
    app = make_app(net.db, net.settings)
    return Site(
        net,
        signed_in(app, "de.officer"),
        signed_in(app, "nl.officer"),
        signed_in(app, "fr.officer"),
        signed_in(app, "de.dpo"),
    )


def messages(net: Net) -> int:
    with net.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


def compose_form(csrf: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "idempotency_key": "k-" + csrf[:10],
        "to": ["NL-NP"],
        "message_type": "request",
        "priority": "urgent",
        "accessibility": "direct",
        "subject": "Keeper of NL plate 12-ABC-3",
        "legal_basis": "Directive (EU) 2023/977 Art. 4",
        "purpose": "armed robbery DE-2026-0412",
        "crime_area": "robbery_aggravated_theft",
        "handling": "H1",
        "classification": "RESTRICTED",
        "personal_data": "1",
        "body": "Line one\nLine <two>",
        "person0.given_name": "Jan",
        "person0.family_name": "de Vries",
        "person0.dob": "1984-03-07",
        "person0.nationality": "NL",
        "person0.document_number": "NXC1234567",
        "person0.role": "suspect",
        "person0.evaluation": "B2",
        "vehicle0.plate": "12-ABC-3",
        "vehicle0.plate_country": "NL",
        "vehicle0.evaluation": "A1",
    }
    form.update(changes)
    return form


def table(html: str) -> str:
    """The message table of an inbox page."""
    return html.split('id="messages"')[1].split("</table>")[0]


# ── Who sees what ───────────────────────────────────────────────────────────────────────────


def test_inbox_lists_the_request_with_markings_deadline_and_counts(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft(handling=HandlingCode.H1, items=(PERSON,)))
    page = site.nl.get("/messages")
    assert page.status_code == 200
    row = re.search(rf'<tr class="message-row[^"]*" data-id="{m.id}">.*?</tr>', page.text, re.S)
    assert row is not None
    html = row.group(0)
    assert "unread" in row.group(0).split('"')[1]
    assert "URGENT" in html
    assert "DE-BKA" in html
    assert "Identity of the driver of NL plate 12-ABC-3" in html
    assert ">H1<" in html
    assert "RESTRICTED" in html
    assert "UTC" in html  # the deadline
    assert "1 unread" in page.text
    assert "1 urgent unread" in page.text
    assert 'id="link-overdue"' in page.text
    assert 'id="link-due-soon"' in page.text
    sent = site.de.get("/messages", params={"folder": "sent"})
    assert "Identity of the driver" in sent.text
    assert "0/1 read" in sent.text


def test_inbox_filters_and_paging(site: Site) -> None:
    net = site.net
    with frozen(utcnow() - dt.timedelta(hours=9)):
        late = net.send(net.de_officer, draft(subject="Late request"))
    info_draft = draft(
        subject="Plain information",
        message_type=MessageType.INFORMATION,
        accessibility=None,
        priority=Priority.NORMAL,
    )
    net.send(net.de_officer, info_draft)
    overdue = table(site.nl.get("/messages", params={"overdue": "1"}).text)
    assert "Late request" in overdue
    assert "Plain information" not in overdue
    assert "OVERDUE" in overdue
    info = table(site.nl.get("/messages", params={"type": "information"}).text)
    assert "Plain information" in info
    assert "Late request" not in info
    by_agency = site.nl.get("/messages", params={"agency": "FR-PN"})
    assert "No messages match these filters" in by_agency.text
    unknown = site.nl.get("/messages", params={"agency": "NOPE"})
    assert unknown.status_code == 200
    assert "no agency" in unknown.text
    for i in range(3):
        net.send(net.de_officer, draft(subject=f"Bulk {i}"))
    with net.db.session() as s:
        page = service.inbox(s, net.actor(net.nl_officer), limit=2, settings=net.settings)
    assert page.next_cursor
    older = site.nl.get("/messages", params={"cursor": page.next_cursor})
    assert older.status_code == 200
    assert "Late request" in older.text
    assert "Newest" in older.text
    assert late.id in older.text


def test_a_non_recipient_gets_not_found(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft(attachments=(AttachmentUpload("scan.pdf", PDF),)))
    with site.net.db.session() as s:
        attachment = s.scalars(select(service.Attachment.id)).one()
    for path in (
        f"/messages/{m.id}",
        f"/messages/{m.id}/reply",
        f"/messages/{m.id}/forward",
        f"/messages/{m.id}/export.json",
        f"/messages/{m.id}/attachments/{attachment}",
    ):
        response = site.fr.get(path)
        assert response.status_code == 404, path
        assert "Identity of the driver" not in response.text
    assert "Identity of the driver" not in site.fr.get("/messages").text


def test_a_dpo_has_no_exchange_pages(site: Site) -> None:
    home = site.dpo.get("/")
    assert 'href="/messages"' not in home.text
    assert "nav-badge" not in home.text
    for path in ("/messages", "/messages/new", "/cases", "/consents", "/messages/counts"):
        assert site.dpo.get(path).status_code == 403, path
    officer_home = site.de.get("/")
    assert 'href="/messages"' in officer_home.text
    assert 'hx-get="/messages/counts"' in officer_home.text


# ── The message view ────────────────────────────────────────────────────────────────────────


def test_message_view_makes_the_markings_unmistakable(site: Site) -> None:
    m = site.net.send(
        site.net.de_officer,
        draft(
            handling=HandlingCode.H1,
            items=(PERSON,),
            body="First line\n<script>alert(1)</script>",
            attachments=(AttachmentUpload("scan.pdf", PDF),),
        ),
    )
    page = site.nl.get(f"/messages/{m.id}")
    assert page.status_code == 200
    text = page.text
    assert 'id="banner-top"' in text
    assert 'id="banner-bottom"' in text
    assert text.count("RESTREINT UE / EU RESTRICTED") >= 2
    assert H1_WARNING in text
    assert 'id="h1-warning"' in text
    assert HandlingCode.H1.meaning in text
    assert "B2" in text
    assert "source which has in most instances proved to be reliable" in text
    assert "information known personally to the source" in text
    assert "8 hours" in text
    assert "Directive 2023/977 Art. 5(1)(a)" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text
    assert "First line\n" in text  # line breaks kept (shown with white-space: pre-wrap)
    assert 'id="signature"' in text
    assert "signature-ok" in text
    assert "ALTERED" not in text
    assert "Jan" in text
    assert "de Vries" in text
    assert 'id="refuse-form"' in text  # the requested agency, on an open request
    assert "Art. 6(1)(a)" in text  # the configured grounds
    assert 'id="acknowledge-form"' in text
    # The recipient sees its own delivery; the sender sees every recipient's.
    assert "status visible to the sender only" not in text
    sender_view = site.de.get(f"/messages/{m.id}")
    assert 'data-agency="NL-NP"' in sender_view.text
    assert "read" in sender_view.text
    assert 'id="refuse-form"' not in sender_view.text


def test_recipients_see_only_their_own_delivery_status(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft(cc=("FR-PN",)))
    page = site.fr.get(f"/messages/{m.id}")
    rows = dict(re.findall(r'data-agency="([^"]+)">(.*?)</tr>', page.text, re.S))
    assert "status visible to the sender only" in rows["NL-NP"]
    assert "status visible to the sender only" not in rows["FR-PN"]
    assert 'id="refuse-form"' not in page.text  # cc: not the requested agency


def test_h3_conditions_are_boxed(site: Site) -> None:
    m = site.net.send(
        site.net.de_officer,
        draft(handling=HandlingCode.H3, h3_conditions="Use only for the JIT on drugs 2026/12"),
    )
    page = site.nl.get(f"/messages/{m.id}")
    assert 'id="h3-conditions"' in page.text
    assert "Use only for the JIT on drugs 2026/12" in page.text


def test_a_tampered_message_shows_the_altered_warning(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft())
    with site.net.db.session() as s:
        s.execute(update(Message).where(Message.id == m.id).values(legal_basis="something else"))
    page = site.nl.get(f"/messages/{m.id}")
    assert page.status_code == 200
    assert "ALTERED — do not rely on this message" in page.text
    assert 'id="signature-altered"' in page.text
    assert "signature-ok" not in page.text
    assert 'id="export-json"' not in page.text
    assert 'id="forward-link"' not in page.text
    assert site.nl.get(f"/messages/{m.id}/export.json").status_code == 409


def test_attachment_download_and_exports(site: Site) -> None:
    m = site.net.send(
        site.net.de_officer,
        draft(
            handling=HandlingCode.H1,
            items=(PERSON,),
            attachments=(AttachmentUpload("scan report.pdf", PDF),),
        ),
    )
    page = site.nl.get(f"/messages/{m.id}")
    href = re.search(r'href="(/messages/[^"]+/attachments/[^"]+)"', page.text)
    assert href is not None
    download = site.nl.get(href.group(1))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-liaison-warning"].startswith(H1_WARNING)
    as_json = site.nl.get(f"/messages/{m.id}/export.json")
    assert as_json.status_code == 200
    assert as_json.headers["content-disposition"].startswith("attachment;")
    doc = json.loads(as_json.content)
    assert doc["markings"]["handling"] == "H1"
    assert doc["items"][0]["evaluation"] == "B2"
    as_xml = site.nl.get(f"/messages/{m.id}/export.xml")
    assert as_xml.status_code == 200
    assert as_xml.headers["content-type"].startswith("application/xml")
    assert b"H1" in as_xml.content
    assert site.nl.get(f"/messages/{m.id}/export.pdf").status_code in (404, 422)
    with site.net.db.session() as s:
        from liaison.core.audit import AuditEntry

        actions = set(
            s.scalars(select(AuditEntry.action).where(AuditEntry.actor_username == "nl.officer"))
        )
    assert {"message.read", "message.attachment.read", "message.export"} <= actions


# ── Compose ─────────────────────────────────────────────────────────────────────────────────


def test_compose_page_offers_the_choices(site: Site) -> None:
    page = site.de.get("/messages/new")
    assert page.status_code == 200
    text = page.text
    assert 'value="NL-NP"' in text
    assert 'value="DE-BKA"' not in text  # not one's own agency
    assert "8 hours" in text
    assert "3 calendar days" in text
    assert "7 calendar days" in text
    assert 'value="robbery_aggravated_theft"' in text
    assert HandlingCode.H2.meaning in text
    assert 'value="X4"' in text
    assert "reliability of the source cannot be assessed" in text
    assert 'name="person0.given_name"' in text
    assert 'name="vehicle0.vin"' in text
    assert 'type="file" name="attachment"' in text
    assert 'enctype="multipart/form-data"' in text


def test_compose_sends_with_items_and_attachments(site: Site) -> None:
    form = compose_form(site.csrf(site.de))
    files = [("attachment", ("statement.pdf", PDF, "application/pdf"))]
    response = site.de.post("/messages", data=form, files=files)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/messages/")
    message_id = location.split("/")[2].split("?")[0]
    shown = site.de.get(location)
    assert "Sent: signed by DE-BKA" in shown.text
    page = site.nl.get(f"/messages/{message_id}")
    assert "de Vries" in page.text
    assert "12-ABC-3" in page.text
    assert "statement.pdf" in page.text
    assert "Line <two>" not in page.text
    assert "Line &lt;two&gt;" in page.text
    assert page.text.count('class="badge eval"') == 2
    with site.net.db.session() as s:
        row = s.get(MessageRecipient, (message_id, site.net.nl.id))
        assert row is not None
        assert row.deadline_rule is not None
        assert row.deadline_rule.startswith("8 hours")
    # The same form again (a double click) does not send twice.
    again = site.de.post("/messages", data=form, files=files)
    assert again.headers["location"] == location
    assert messages(site.net) == 1


def test_a_refused_recipient_is_shown_on_the_form_and_nothing_is_stored(site: Site) -> None:
    form = compose_form(site.csrf(site.de), to=["NL-NP", "XA-POL"])
    response = site.de.post("/messages", data=form)
    assert response.status_code == 403
    assert 'id="form-error"' in response.text
    assert "Nothing was sent" in response.text
    assert "XA-POL" in response.text
    assert "working arrangement allows no personal data" in response.text
    assert 'id="compose-form"' in response.text
    # The input is kept.
    assert 'value="Keeper of NL plate 12-ABC-3"' in response.text
    assert 'value="de Vries"' in response.text
    assert re.search(r'<option value="XA-POL" selected>', response.text)
    assert messages(site.net) == 0
    with site.net.db.session() as s:
        assert s.scalar(select(func.count()).select_from(service.Case)) == 0


def test_form_errors_are_readable_and_keep_the_input(site: Site) -> None:
    csrf = site.csrf(site.de)
    no_accessibility = site.de.post("/messages", data=compose_form(csrf, accessibility=""))
    assert no_accessibility.status_code == 422
    assert 'id="error-accessibility"' in no_accessibility.text
    assert "directly or indirectly" in no_accessibility.text
    bad_item = site.de.post(
        "/messages", data=compose_form(csrf, **{"person0.evaluation": "", "person0.dob": "x"})
    )
    assert bad_item.status_code == 422
    assert "person 1" in bad_item.text
    assert 'value="de Vries"' in bad_item.text
    above = site.de.post(
        "/messages", data=compose_form(csrf, classification="SECRET", **{"person0.given_name": ""})
    )
    assert above.status_code == 403
    assert "NL-NP" in above.text
    blocked = site.de.post(
        "/messages",
        data=compose_form(csrf),
        files=[("attachment", ("tool.exe", b"MZ" + bytes(200), "application/octet-stream"))],
    )
    assert blocked.status_code == 415
    assert "tool.exe" in blocked.text
    assert 'id="compose-form"' in blocked.text
    assert messages(site.net) == 0


def test_attachment_over_the_limit_is_refused_on_the_form(net: Net) -> None:
    settings = net.settings.model_copy(update={"attachment_max_bytes": 100})
    client = signed_in(make_app(net.db, settings), "de.officer")
    response = client.post(
        "/messages",
        data=compose_form(client.csrf),  # type: ignore[attr-defined]
        files=[("attachment", ("big.txt", b"x" * 500, "text/plain"))],
    )
    assert response.status_code == 413
    assert "big.txt" in response.text
    assert "LIAISON_ATTACHMENT_MAX_BYTES" in response.text
    assert messages(net) == 0


# ── Reply, refuse, forward, consent, acknowledge ────────────────────────────────────────────


def test_reply_closes_the_request_and_the_sender_sees_it_answered(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft(items=(PERSON,)))
    form_page = site.nl.get(f"/messages/{m.id}/reply")
    assert form_page.status_code == 200
    assert 'value="Re: Identity of the driver of NL plate 12-ABC-3"' in form_page.text
    response = site.nl.post(
        f"/messages/{m.id}/reply",
        data={
            "csrf_token": site.csrf(site.nl),
            "subject": "Re: keeper",
            "body": "Registered in Utrecht.",
            "legal_basis": "Directive (EU) 2023/977 Art. 5",
            "purpose": "answer",
            "handling": "H0",
            "classification": "RESTRICTED",
        },
    )
    assert response.status_code == 303, response.text
    request_view = site.de.get(f"/messages/{m.id}")
    row = re.search(r'data-agency="NL-NP">(.*?)</tr>', request_view.text, re.S)
    assert row is not None
    assert "answered · closed" in row.group(1)
    inbox = site.de.get("/messages")
    assert "Re: keeper" in inbox.text


def test_a_refusal_needs_a_ground_and_shows_it(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft())
    base = {
        "csrf_token": site.csrf(site.nl),
        "subject": "Refusal",
        "legal_basis": "Directive (EU) 2023/977 Art. 6",
        "purpose": "answer",
        "classification": "RESTRICTED",
        "body": "We cannot help.",
    }
    missing = site.nl.post(f"/messages/{m.id}/refuse", data=base | {"refusal_ground": ""})
    assert missing.status_code == 403
    assert "must state its ground" in missing.text
    assert 'id="compose-form"' in missing.text
    assert "We cannot help." in missing.text
    assert messages(site.net) == 1
    done = site.nl.post(f"/messages/{m.id}/refuse", data=base | {"refusal_ground": "not_available"})
    assert done.status_code == 303
    refusal_id = done.headers["location"].split("/")[2].split("?")[0]
    seen = site.de.get(f"/messages/{refusal_id}")
    assert 'id="refusal"' in seen.text
    assert "Art. 6(1)(a)" in seen.text


def test_h2_forward_waits_for_consent_and_the_provider_decides(site: Site) -> None:
    net = site.net
    m = net.send(
        net.de_officer,
        draft(handling=HandlingCode.H2, message_type=MessageType.INFORMATION, accessibility=None),
    )
    form_page = site.nl.get(f"/messages/{m.id}/forward")
    assert 'id="consent-notice"' in form_page.text
    assert "nothing is sent to the recipients until DE-BKA grants it" in form_page.text
    response = site.nl.post(
        f"/messages/{m.id}/forward",
        data={"csrf_token": site.csrf(site.nl), "to": ["FR-PN"], "note": "for the JIT"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/consents?asked=")
    waiting = site.nl.get(response.headers["location"])
    assert "Your forward waits for the consent of DE-BKA" in waiting.text
    assert "Fwd:" not in site.fr.get("/messages").text  # nothing sent yet
    decide = site.de.get("/consents")
    assert "FR-PN (to)" in decide.text
    with net.db.session() as s:
        consent = s.scalars(select(ConsentRequest)).one()
    # The consent request message offers the decision too.
    assert consent.request_message_id is not None
    ask_page = site.de.get(f"/messages/{consent.request_message_id}")
    assert 'id="consent-form"' in ask_page.text
    granted = site.de.post(
        f"/consents/{consent.id}/decision",
        data={"csrf_token": site.csrf(site.de), "decision": "grant", "note": "ok for JIT"},
    )
    assert granted.status_code == 303
    assert "Fwd: Identity of the driver" in site.fr.get("/messages").text
    again = site.de.post(
        f"/consents/{consent.id}/decision",
        data={"csrf_token": site.csrf(site.de), "decision": "refuse"},
    )
    assert again.status_code == 409
    assert "already granted" in again.text


def test_forward_to_a_refused_recipient_is_shown_on_the_form(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft(items=(PERSON,)))
    response = site.nl.post(
        f"/messages/{m.id}/forward",
        data={"csrf_token": site.csrf(site.nl), "to": ["XA-POL"]},
    )
    assert response.status_code == 403
    assert 'id="forward-form"' in response.text
    assert "working arrangement allows no personal data" in response.text


def test_acknowledge(site: Site) -> None:
    m = site.net.send(site.net.de_officer, draft())
    response = site.nl.post(
        f"/messages/{m.id}/acknowledge", data={"csrf_token": site.csrf(site.nl)}
    )
    assert response.status_code == 303
    page = site.nl.get(response.headers["location"])
    assert "Acknowledged." in page.text
    assert 'id="acknowledge-form"' not in page.text


def test_csrf_is_required_on_every_form(site: Site) -> None:
    net = site.net
    m = net.send(net.de_officer, draft())
    h2 = net.send(
        net.de_officer,
        draft(handling=HandlingCode.H2, message_type=MessageType.INFORMATION, accessibility=None),
    )
    with net.db.session() as s:
        service.forward(s, net.actor(net.nl_officer), h2.id, to=["FR-PN"], settings=net.settings)
        consent = s.scalars(select(ConsentRequest.id)).one()
    before = messages(net)
    posts: list[tuple[TestClient, str, dict[str, Any]]] = [
        (site.de, "/messages", compose_form("")),
        (site.nl, f"/messages/{m.id}/reply", {"subject": "x", "legal_basis": "x", "purpose": "x"}),
        (site.nl, f"/messages/{m.id}/refuse", {"refusal_ground": "not_available"}),
        (site.nl, f"/messages/{m.id}/forward", {"to": ["FR-PN"]}),
        (site.nl, f"/messages/{m.id}/acknowledge", {}),
        (site.de, f"/consents/{consent}/decision", {"decision": "grant"}),
        (site.de, f"/cases/{m.case_id}/close", {}),
        (site.de, f"/cases/{m.case_id}/reopen", {}),
    ]
    for client, path, data in posts:
        refused = client.post(path, data=data | {"csrf_token": "wrong"})
        assert refused.status_code == 403, path
        assert "CSRF" in refused.text, path
        assert client.post(path, data=data).status_code == 403, path
    assert messages(net) == before
    with net.db.session() as s:
        row = s.get(MessageRecipient, (m.id, net.nl.id))
        assert row is not None
        assert row.acknowledged_at is None
        assert s.scalars(select(ConsentRequest.status)).one() == "pending"


# ── Live counter ────────────────────────────────────────────────────────────────────────────


def test_counts_fragment(site: Site) -> None:
    empty = site.nl.get("/messages/counts")
    assert empty.status_code == 200
    assert "0 unread" in empty.text
    assert 'name="seen" value="-"' in empty.text
    assert "<html" not in empty.text
    m = site.net.send(site.net.de_officer, draft())
    polled = site.nl.get("/messages/counts", params={"seen": "-"})
    assert "1 unread" in polled.text
    assert "1 urgent" in polled.text
    assert "New message" in polled.text
    assert f'href="/messages/{m.id}"' in polled.text
    assert 'name="seen" value="-"' in polled.text  # the page's starting point is kept
    fresh = site.nl.get("/messages/counts")
    assert "New message" not in fresh.text
    assert f'name="seen" value="{m.id}"' in fresh.text
    signed_out = TestClient(make_app(site.net.db, site.net.settings), follow_redirects=False)
    assert signed_out.get("/messages/counts").status_code == 286


def test_the_poll_does_not_keep_an_idle_session_alive(site: Site) -> None:
    from liaison.identity.model import WebSession

    with site.net.db.session() as s:
        before = {w.id_hash: w.expires_at for w in s.scalars(select(WebSession))}
    site.nl.get("/messages/counts")
    with site.net.db.session() as s:
        after = {w.id_hash: w.expires_at for w in s.scalars(select(WebSession))}
    assert before == after


# ── Cases and consents ──────────────────────────────────────────────────────────────────────


def test_case_timeline_participants_and_close(site: Site) -> None:
    net = site.net
    m = net.send(net.de_officer, draft(case_title="Operation Harbour"))
    with net.db.session() as s:
        service.reply(
            s,
            net.actor(net.nl_officer),
            m.id,
            Draft(
                to=(),
                subject="Re: keeper",
                body="Utrecht.",
                legal_basis="Directive (EU) 2023/977 Art. 5",
                purpose="answer",
                classification=Classification.RESTRICTED,
            ),
            settings=net.settings,
        )
    cases = site.de.get("/cases")
    assert "Operation Harbour" in cases.text
    page = site.de.get(f"/cases/{m.case_id}")
    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1]
    assert timeline.index("Identity of the driver") < timeline.index("Re: keeper")
    assert "NL-NP" in page.text.split('id="participants"')[1]
    assert 'id="case-status-form"' in page.text
    nl_page = site.nl.get(f"/cases/{m.case_id}")
    assert nl_page.status_code == 200
    assert 'id="case-status-form"' not in nl_page.text
    assert (
        site.nl.post(
            f"/cases/{m.case_id}/close", data={"csrf_token": site.csrf(site.nl)}
        ).status_code
        == 403
    )
    assert site.fr.get(f"/cases/{m.case_id}").status_code == 404
    closed = site.de.post(f"/cases/{m.case_id}/close", data={"csrf_token": site.csrf(site.de)})
    assert closed.status_code == 303
    assert ">closed" in site.de.get(f"/cases/{m.case_id}").text
    reopened = site.de.post(f"/cases/{m.case_id}/reopen", data={"csrf_token": site.csrf(site.de)})
    assert reopened.status_code == 303
    assert "Close the case" in site.de.get(f"/cases/{m.case_id}").text
