"""Alerts: Prefect automations that notify someone when the daily run did not do its job.

``install_alerts`` (``detainer-intake alerts install``) creates, on the Prefect server of
``PREFECT_API_URL``, two automations that send through one notification block:

- ``detainer-intake: run failed``: a run of ``daily_intake`` (or ``backfill``, ``archive_verify``,
  ``annual_report``) ended Failed, Crashed or TimedOut: its name, message and link in the UI;
- ``detainer-intake: no completed daily run``: no run of ``daily_intake`` Completed within
  ``hours`` (26 by default: a day and a margin), whether the runs failed, were never started
  (``serve`` stopped, the worker down) or hang.

The block is one the command creates: a Custom Webhook block (``--webhook URL``: JSON ``{"subject",
"body"}`` POSTed to it) or, for e-mail over SMTP (``--email URL``, an Apprise mail URL such as
``mailtos://relay.example.gov:587?to=ops@example.gov&from=intake@example.gov``), a block of Prefect's
Apprise-backed notification type (Prefect has no plain SMTP block; its Slack Webhook block hands its
URL, kept secret, to Apprise, which sends mail for a ``mailto://``/``mailtos://`` URL); or any
notification block already on the server (``--block TYPE/NAME``). Installing again replaces the
two automations.
Messages carry run names, states and links, never personal data (state messages are scrubbed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from prefect.blocks.core import Block
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook
from prefect.client.orchestration import get_client
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from pydantic import SecretStr

from core.errors import ConfigError

FAILED_NAME = "detainer-intake: run failed"
MISSING_NAME = "detainer-intake: no completed daily run"
WEBHOOK_BLOCK = "detainer-intake-alerts"
EMAIL_BLOCK = "detainer-intake-alerts-mail"
WATCHED_FLOWS = ["daily_intake", "backfill", "archive_verify", "annual_report"]
FAILED_EVENTS = {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"}


class AlertsNotInstalled(ConfigError):
    """The automations could not be created: no Prefect server, or the notification block is missing."""

    remedy = (
        "Set PREFECT_API_URL to the Prefect server the deployments run on (`prefect server start`), and give "
        "--webhook URL or the TYPE/NAME of a notification block that exists there (`prefect block ls`)."
    )


@dataclass(frozen=True)
class InstalledAlerts:
    block: str
    automations: dict[str, UUID]


def _failed(block_id: UUID) -> AutomationCore:
    return AutomationCore(
        name=FAILED_NAME,
        description="A detainer-intake flow run ended Failed, Crashed or TimedOut.",
        trigger=EventTrigger(
            expect=FAILED_EVENTS,
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": WATCHED_FLOWS},
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject="detainer-intake: {{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}",
                body=(
                    "The {{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}: "
                    "{{ flow_run.state.message }}\n"
                    "In the Prefect UI: {{ flow_run|ui_url }}\n"
                    "Then: detainer-intake doctor; README, Operations."
                ),
            )
        ],
    )


def _missing(block_id: UUID, hours: float) -> AutomationCore:
    return AutomationCore(
        name=MISSING_NAME,
        description=f"No daily_intake run completed within {hours:g} hours.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Completed"},
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": "daily_intake"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(hours=hours),
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject=f"detainer-intake: no daily run completed in {hours:g} hours",
                body=(
                    f"No daily_intake run has completed in the last {hours:g} hours: the runs failed, were not "
                    "started (is `detainer-intake serve` or the worker running, the schedule paused?) or hang. "
                    "Look at the flow runs in the Prefect UI; then detainer-intake doctor."
                ),
            )
        ],
    )


def _block_id(webhook: str | None, block: str | None, email: str | None = None) -> tuple[str, UUID]:
    if sum(choice is not None for choice in (webhook, block, email)) != 1:
        raise AlertsNotInstalled("give exactly one of --webhook URL, --email URL and --block TYPE/NAME")
    if email is not None:
        if not email.startswith(("mailto://", "mailtos://")):
            raise AlertsNotInstalled(
                "--email takes an Apprise mail URL: mailto://... or mailtos://... (README, Alerts)"
            )
        mailer = SlackWebhook(url=SecretStr(email))  # Apprise sends mail for a mailto(s):// URL
        mail_id: UUID = mailer.save(EMAIL_BLOCK, overwrite=True)  # type: ignore[assignment]  # sync here
        return f"slack-webhook/{EMAIL_BLOCK}", mail_id
    if webhook is not None:
        notifier = CustomWebhookNotificationBlock(  # type: ignore[call-arg]  # pydantic defaults
            name=WEBHOOK_BLOCK, url=webhook, json_data={"subject": "{{subject}}", "body": "{{body}}"}
        )
        block_id: UUID = notifier.save(WEBHOOK_BLOCK, overwrite=True)  # type: ignore[assignment]  # sync here
        return f"custom-webhook/{WEBHOOK_BLOCK}", block_id
    assert block is not None
    try:
        loaded: Block = Block.load(block)  # type: ignore[assignment]  # sync here
    except (ValueError, KeyError) as exc:
        raise AlertsNotInstalled(f"no notification block {block!r} on the Prefect server ({exc})") from None
    if loaded._block_document_id is None or not hasattr(loaded, "notify"):
        raise AlertsNotInstalled(f"the block {block!r} is not a notification block")
    return block, loaded._block_document_id


def install_alerts(
    webhook: str | None = None, block: str | None = None, hours: float = 26.0, email: str | None = None
) -> InstalledAlerts:
    """Create (or replace) the two automations on the configured Prefect server."""
    if hours <= 0:
        raise AlertsNotInstalled("--hours must be more than 0")
    with get_client(sync_client=True) as client:
        unhealthy = client.api_healthcheck()
        if unhealthy is not None:
            raise AlertsNotInstalled(f"the Prefect API cannot be reached ({type(unhealthy).__name__})")
        name, block_id = _block_id(webhook, block, email)
        created = {}
        for automation in (_failed(block_id), _missing(block_id, hours)):
            for existing in client.read_automations_by_name(automation.name):
                client.delete_automation(existing.id)
            created[automation.name] = client.create_automation(automation)
    return InstalledAlerts(name, created)


def remove_alerts() -> list[str]:
    """Delete the automations ``install_alerts`` made (the block is left); the names removed."""
    removed = []
    with get_client(sync_client=True) as client:
        for name in (FAILED_NAME, MISSING_NAME):
            for existing in client.read_automations_by_name(name):
                client.delete_automation(existing.id)
                removed.append(name)
    return removed
