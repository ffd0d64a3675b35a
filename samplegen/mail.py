"""E-mail messages for the Bureau of Field Services mailbox, as a Maildir.

Builds RFC 5322 messages with :mod:`email` from the scenario's message plans:
officer e-mails with PDF attachments (one declared as application/octet-stream,
one with a ``../`` file name), fax-to-e-mail (eFax-style) notifications, phone
photos, an HTML body with an inline image (multipart/related + Content-ID), a
supervisor forwarding an earlier message as a ``message/rfc822`` part (the
attachment bytes identical to the first copy), and a message with no attachment.
Every message has a topmost ``Received:`` header dated at its receive time (the
department's local time with offset), plus Date, From, To, Subject, Message-ID.
Boundaries are set explicitly so the bytes are reproducible.
"""

from __future__ import annotations

import copy
import email.policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from samplegen.scenario import MessagePlan, ReceiptPlan

POLICY = email.policy.default.clone(linesep="\n", max_line_length=78)


def _received(mp: MessagePlan, n: int) -> tuple[str, str]:
    dom = mp.from_addr.split("@")[1]
    inner = (f"from smtp-out.{dom} (smtp-out.{dom} [198.51.100.{20 + n % 200}]) by mx1.dept.example "
             f"(Postfix) with ESMTPS id 4Q{n:04d}Zx{n * 37 % 1000:03d}; {format_datetime(mp.sent_local)}")
    top = (f"from mx1.dept.example (mx1.dept.example [10.20.0.25]) by mail.dept.example (Postfix) "
           f"with ESMTP id 7F{n:04d}A{n * 53 % 1000:03d} for <{mp.to_addr}>; {format_datetime(mp.received_local)}")
    return top, inner


def _base(mp: MessagePlan, n: int, *, received: bool = True) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    if received:
        top, inner = _received(mp, n)
        msg["Received"] = top
        msg["Received"] = inner
    msg["Date"] = format_datetime(mp.sent_local)
    msg["From"] = formataddr((mp.from_name, mp.from_addr))
    msg["To"] = mp.to_addr
    msg["Subject"] = mp.subject
    msg["Message-ID"] = mp.message_id
    return msg


def _add_attachment(msg: EmailMessage, r: ReceiptPlan, data: bytes) -> None:
    maintype, subtype = (r.content_type or "application/octet-stream").split("/", 1)
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=r.file_name)


def _fix_boundaries(msg: EmailMessage, tag: str) -> None:
    """Fixed boundaries for this message's multiparts (a forwarded message keeps its own)."""
    counter = [0]

    def visit(part: EmailMessage) -> None:
        if part.get_content_type() == "message/rfc822" or not part.is_multipart():
            return
        part.set_boundary(f"----=_Part_{tag}_{counter[0]}")
        counter[0] += 1
        for sub in part.get_payload():
            visit(sub)  # type: ignore[arg-type]

    visit(msg)


def build_message(mp: MessagePlan, n: int, receipts: dict[str, ReceiptPlan], data: dict[str, bytes],
                  originals: dict[str, EmailMessage]) -> EmailMessage:
    """One message; ``originals`` holds already-built messages (for forwarding)."""
    if mp.forwarded_of:
        orig = copy.deepcopy(originals[mp.forwarded_of])
        msg = _base(mp, n)
        msg.set_content(mp.forwarder_note + "\n-----Original Message-----\n(attached)\n")
        msg.add_attachment(orig)  # message/rfc822, inline, headers and bytes of the original
        for part in msg.iter_attachments():
            if part.get_content_type() == "message/rfc822":
                del part["Content-Disposition"]
                part["Content-Disposition"] = "attachment"
        _fix_boundaries(msg, f"{n:03d}")
        return msg
    msg = _base(mp, n)
    if mp.html_inline:
        r = receipts[mp.attachments[0]]
        cid = f"image001.png@01DC{n:04X}.5E3A7B10"
        msg.set_content(mp.body)
        msg.add_alternative(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>"
            f"<div>{mp.body.strip()}</div><div><img src=\"cid:{cid}\" width=\"640\" alt=\"image001.png\"></div>"
            "<div>--<br>Officer P. Santangelo<br>Court Unit</div></body></html>\n",
            subtype="html",
        )
        html: Any = msg.get_payload()[1]  # type: ignore[index]
        maintype, subtype = (r.content_type or "image/png").split("/", 1)
        html.add_related(data[r.label], maintype=maintype, subtype=subtype, cid=f"<{cid}>", filename=r.file_name,
                         disposition="inline")
        _fix_boundaries(msg, f"{n:03d}")
        return msg
    msg.set_content(mp.body)
    for label in mp.attachments:
        r = receipts[label]
        _add_attachment(msg, r, data[label])
    _fix_boundaries(msg, f"{n:03d}")
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=POLICY)
