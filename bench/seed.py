"""Seed a database with N tickets (default 1,000,000) of realistic shape, for benchmarks.

Each ticket is simulated along the desk's workflow over the last 60 days (CM triage, hand-over
to SoMe Support, holding message, department requests, private-data requests, Wiedervorlagen,
resolution, dismissal) and cut off at `now`, so states, clocks, breaches, events, replies and
department requests agree with each other. Rows are written with COPY in chunks (triggers
off); the dashboard's report facts are then computed in one pass (`tickets.facts.rebuild`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_dash_bench \\
        .venv/bin/python -m bench.seed --tickets 1000000 [--running 200000 --due 100]

`--running R --due D` makes R of the tickets hold a running clock, D of them past their
deadline now (already warned, breach not yet recorded) and the rest far from their warning
time: the shape the SLA sweep benchmark needs. The database is migrated first; by default the
seeded tables are emptied first, so running twice gives the same volume (`--no-truncate`
appends). ANALYZE (with VACUUM, for index-only scans) runs at the end.
"""

import argparse
import io
import math
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tickets.choices import is_handover

DAYS = 60
CHUNK_TICKETS = 20_000  # tickets per COPY round: bounded memory, few round trips
CHANNELS = [  # slug, name, platform, share of tickets
    ("seed-twitter", "X @desk_hilft", "twitter", 0.30),
    ("seed-facebook", "Facebook Seite", "facebook", 0.28),
    ("seed-instagram", "Instagram", "instagram", 0.20),
    ("seed-youtube", "YouTube", "youtube", 0.05),
    ("seed-mastodon", "Mastodon", "mastodon", 0.07),
    ("seed-forum", "Community-Forum", "rss", 0.10),
]
DEPARTMENTS = [
    ("seed-technik", "Technik"),
    ("seed-abrechnung", "Abrechnung"),
    ("seed-logistik", "Logistik"),
    ("seed-vertrag", "Vertrag"),
]
TOPIC_NAMES = [f"Thema {index:02d}: Produktwunsch" for index in range(1, 26)]
AGENTS, CMS, LEADS, EXPERTS_PER_DEPARTMENT = 20, 5, 2, 2
BENCH_PASSWORD = "bench-password-1"  # a benchmark database: printed on purpose
SEEDED_TABLES = [
    "tickets_reportfact",
    "tickets_slabreach",
    "tickets_slaclock",
    "tickets_departmentrequest_shared_mentions",
    "tickets_departmentrequest",
    "tickets_reply",
    "tickets_ticketevent",
    "tickets_ticketnote",
    "tickets_ticketlink",
    "tickets_notification",
    "monitoring_mentionrevision",
    "monitoring_mention",
    "tickets_ticket",
    "crm_socialidentity",
    "crm_customer",
]
BERLIN_OFFSET_HOURS = 1  # only shapes the day/night rhythm of the traffic


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _opt_ts(epoch: float | None) -> str:
    return "\\N" if epoch is None else _ts(epoch)


class Tables:
    """Rows per table as COPY text lines, with the next id of each table."""

    COLUMNS: dict[str, tuple[str, ...]] = {
        "crm_customer": ("id", "display_name", "created_at", "merged_into_id"),
        "crm_socialidentity": (
            "id", "platform", "platform_user_id", "handle", "display_name", "created_at",
            "customer_id", "block_scope",
        ),
        "tickets_ticket": (
            "id", "state", "priority", "is_private", "preview", "mention_count", "opened_at",
            "posted_at", "last_mention_at", "state_changed_at", "updated_at", "resolved_at",
            "no_service_case", "dismiss_reason", "handover_reference", "resubmission_on",
            "resubmission_due_at", "follow_up_due_at", "sla_due_at", "starts_clocks",
            "assignee_id", "channel_id", "customer_id", "topic_id", "transition_count",
            "handover_count", "assigned_by_routing",
        ),
        "monitoring_mention": (
            "id", "external_id", "author_handle", "author_display_name",
            "author_platform_user_id", "text", "created_at", "received_at", "url", "in_reply_to",
            "is_private", "is_own_account", "is_hidden", "language", "raw", "channel_id",
            "identity_id", "parent_id", "ticket_id",
        ),
        "tickets_departmentrequest": (
            "id", "question", "created_at", "due_at", "status", "answer", "answered_at",
            "closed_at", "withdraw_reason", "answered_by_id", "department_id", "requested_by_id",
            "ticket_id",
        ),
        "tickets_slaclock": (
            "id", "kind", "started_at", "posted_at", "warn_at", "due_at", "stopped_at",
            "warned_at", "is_cancelled", "department_request_id", "ticket_id", "stopped_by_id",
        ),
        "tickets_slabreach": ("id", "due_at", "detected_at", "clock_id"),
        "tickets_ticketevent": (
            "id", "kind", "transition", "from_state", "to_state", "note", "created_at", "data",
            "actor_id", "ticket_id",
        ),
        "tickets_reply": (
            "id", "visibility", "kind", "text", "status", "reviewed_at", "review_comment",
            "created_at", "updated_at", "submitted_at", "approved_at", "sent_at", "attempts",
            "next_attempt_at", "sending_started_at", "last_error", "platform_id", "permalink",
            "author_id", "in_reply_to_mention_id", "reviewer_id", "template_id", "ticket_id",
            "rejected_for_personal_data",
        ),
    }  # fmt: skip

    def __init__(self, next_ids: dict[str, int]) -> None:
        self.next_ids = dict(next_ids)
        self.lines: dict[str, list[str]] = {name: [] for name in self.COLUMNS}

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, *values: Any) -> None:
        self.lines[table].append("\t".join(values))

    def flush(self, cursor: Any) -> int:
        """COPY every table's rows, parents first, in one transaction. The rows are
        consistent by construction, so the foreign-key triggers are skipped (replica role):
        checking them at commit would cost as much as the COPY itself."""
        from django.db import transaction

        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
            return self._copy(cursor)

    def _copy(self, cursor: Any) -> int:
        written = 0
        for table, lines in self.lines.items():
            if not lines:
                continue
            buffer = io.StringIO("\n".join(lines) + "\n")
            columns = ", ".join(self.COLUMNS[table])
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
            written += len(lines)
            lines.clear()
        return written


class Simulation:
    """One ticket's life along the workflow, cut off at `now` (epoch seconds)."""

    def __init__(self, tables: Tables, rng: random.Random, context: dict[str, Any]) -> None:
        self.tables = tables
        self.rng = rng
        self.context = context
        self.now: float = context["now"]

    # ---- small helpers

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0, sigma))

    def pick(self, items: list[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    # ---- one ticket

    def ticket(self, opened: float, *, special: str = "") -> None:
        rng, tables, now = self.rng, self.tables, self.now
        channel_index = self._channel_index()
        channel_id, platform, slug = self.context["channels"][channel_index]
        customer_id, identity_id, handle = self._customer(channel_index, platform, slug)
        ticket_id = tables.new_id("tickets_ticket")
        is_private = rng.random() < 0.06
        posted = (
            opened - rng.uniform(5, 180) if rng.random() > 0.01 else opened + rng.uniform(1, 30)
        )

        state = "new"
        state_changed = opened
        assignee: int | None = None
        priority_steps = 0
        resolved: float | None = None
        no_service_case = False
        dismiss_reason = ""
        handover_reference = ""
        topic_id = "\\N"
        resubmission_on: date | None = None
        resubmission_due: float | None = None
        follow_up_due: float | None = None
        running_dues: list[float] = []
        mentions = [
            self._mention(ticket_id, channel_id, identity_id, handle, opened, posted, is_private)
        ]
        first_mention = mentions[0]
        for _extra in range(rng.choice((0, 0, 0, 1, 1, 2))):  # 1–3 mentions per ticket in all
            follow_up = opened + self.lognormal(1800, 1.0)
            if follow_up <= now:
                mentions.append(
                    self._mention(
                        ticket_id, channel_id, identity_id, handle, follow_up,
                        follow_up - rng.uniform(5, 60), is_private,
                    )
                )  # fmt: skip
        self._event(ticket_id, "opened", "", "", "", opened, None)

        transition_count = handover_count = 0

        def transition(name: str, to_state: str, at: float, actor: int | None) -> bool:
            nonlocal state, state_changed, transition_count, handover_count
            if at > now:
                return False
            self._event(ticket_id, "transition", name, state, to_state, at, actor)
            transition_count += 1
            handover_count += is_handover(state, to_state)
            state, state_changed = to_state, at
            return True

        def clock(kind: str, start: float, target: float, stop: float | None, *,
                  cancel_at: float | None = None, request_id: int | None = None,
                  posted_at: float | None = None,
                  stopped_by: int | None = None) -> float | None:  # fmt: skip
            """Write a clock; returns the stop time if it stopped by now."""
            nonlocal priority_steps
            warn, due = start + target * 0.8, start + target
            end = cancel_at if cancel_at is not None else stop
            stopped = end if end is not None and end <= now else None
            cancelled = cancel_at is not None and stopped is not None
            until = stopped if stopped is not None else now
            warned = warn + rng.uniform(0.5, 5) if warn <= until else None
            if warned is not None and warned > now:
                warned = None
            clock_id = tables.new_id("tickets_slaclock")
            tables.add(
                "tickets_slaclock", str(clock_id), kind, _ts(start), _opt_ts(posted_at),
                _ts(warn), _ts(due), _opt_ts(stopped), _opt_ts(warned),
                "t" if cancelled else "f", str(request_id) if request_id else "\\N",
                str(ticket_id),
                str(stopped_by) if stopped_by and stopped and not cancelled else "\\N",
            )  # fmt: skip
            breach_at = None
            if stopped is not None and not cancelled and stopped > due:
                breach_at = stopped  # a late stop records its breach itself
            elif due < until:
                breach_at = min(due + rng.uniform(0.5, 5), now)
            if breach_at is not None:
                tables.add(
                    "tickets_slabreach", str(tables.new_id("tickets_slabreach")), _ts(due),
                    _ts(breach_at), str(clock_id),
                )  # fmt: skip
                self._event(ticket_id, "sla_breach", "", "", "", breach_at, None)
                priority_steps += 1
            if stopped is None:
                running_dues.append(due)
            return stopped

        def reply(kind: str, at: float, author: int, *, private: bool = False) -> None:
            reply_id = tables.new_id("tickets_reply")
            if at > now:
                return
            created = at - rng.uniform(30, 240)
            tables.add(
                "tickets_reply", str(reply_id), "private" if private else "public", kind,
                "Danke für deine Nachricht, wir kümmern uns.", "sent", _ts(at - 5), "",
                _ts(created), _ts(at), _ts(created + 10), _ts(at - 5), _ts(at), "1", "\\N",
                _ts(at - 1), "", f"seed-{reply_id}", "", str(author),
                str(first_mention), str(self._reviewer(author)), "\\N",
                str(ticket_id), "f",
            )  # fmt: skip

        cm = self.pick(self.context["cms"])
        agent = self.pick(self.context["agents"])
        story = rng.random()

        if special == "due":
            # Past its deadline now, warned, breach not yet recorded: the sweep's work.
            tables.add(
                "tickets_slaclock", str(tables.new_id("tickets_slaclock")), "first_response",
                _ts(opened), _ts(posted), _ts(opened + 480), _ts(opened + 600), "\\N",
                _ts(opened + 481), "f", "\\N", str(ticket_id), "\\N",
            )  # fmt: skip
            running_dues.append(opened + 600)
        elif special == "running":
            # A department request far from its warning time: a running clock the sweep skips.
            fr_stop = opened + self.lognormal(200, 0.5)
            clock("first_response", opened, 600, fr_stop, posted_at=posted, stopped_by=agent)
            transition("assign_to_support", "support", opened + 60, cm)
            transition("take", "in_progress", opened + 120, agent)
            assignee = agent
            reply("holding", fr_stop, agent)
            asked = opened + 300
            request_id = self._department_request(ticket_id, asked, None, None, agent)
            transition("ask_department", "waiting_department", asked, agent)
            clock("department_feedback", asked, 48 * 3600, None, request_id=request_id)
        elif story < 0.18:
            # The CM dismisses it: the first-response clock is cancelled.
            at = opened + self.lognormal(300, 0.9)
            clock("first_response", opened, 600, None, cancel_at=at, posted_at=posted)
            if transition("dismiss", "dismissed", at, cm):
                resolved = at
                dismiss_reason = self.pick(["not_relevant", "not_relevant", "spam", "abusive"])
        elif story < 0.23:
            # No service case: the 24-hour engagement clock replaces first response.
            marked = opened + rng.uniform(60, 400)
            clock("first_response", opened, 600, None, cancel_at=marked, posted_at=posted)
            if marked <= now:
                no_service_case = True
                self._event(ticket_id, "no_service_case", "", "", "", marked, cm)
                answered = opened + self.lognormal(4 * 3600, 1.0)
                stop = clock("engagement", opened, 24 * 3600, answered, posted_at=posted,
                             stopped_by=cm)  # fmt: skip
                if stop is not None:
                    reply("answer", stop, cm)
                    if transition("resolve", "resolved", stop + rng.uniform(60, 3600), cm):
                        resolved = state_changed
        elif story < 0.31:
            # The CM answers directly and resolves.
            answered = opened + self.lognormal(240, 0.7)
            stop = clock("first_response", opened, 600, answered, posted_at=posted, stopped_by=cm)
            if stop is not None:
                reply("answer", stop, cm)
                if transition("resolve", "resolved", stop + rng.uniform(30, 1800), cm):
                    resolved = state_changed
        else:
            resolved, assignee, extra = self._support_story(
                ticket_id, opened, posted, cm, agent, transition, clock, reply,
                mentions, channel_id, identity_id, handle, is_private,
            )  # fmt: skip
            topic_id = extra.get("topic_id", "\\N")
            handover_reference = extra.get("handover_reference", "")
            resubmission_on = extra.get("resubmission_on")
            resubmission_due = extra.get("resubmission_due")
            follow_up_due = extra.get("follow_up_due")
            state = extra["state"]
            state_changed = extra["state_changed"]

        if state not in ("resolved", "unsolvable", "dismissed"):
            resolved = None
        if state != "resubmission":
            resubmission_on, resubmission_due = None, None
        if state != "in_progress":
            follow_up_due = None
        if state in ("new", "support"):
            assignee = None
        priority = ("normal", "high", "urgent")[min(priority_steps, 2)]
        last_mention = max(mention_at for _id, mention_at in self._mention_times)
        updated = max(state_changed, last_mention)
        tables.add(
            "tickets_ticket", str(ticket_id), state, priority, "t" if is_private else "f",
            "Mein Paket ist nicht angekommen.", str(len(self._mention_times)), _ts(opened),
            _ts(posted), _ts(last_mention), _ts(state_changed), _ts(updated), _opt_ts(resolved),
            "t" if no_service_case else "f", dismiss_reason, handover_reference,
            resubmission_on.isoformat() if resubmission_on else "\\N",
            _opt_ts(resubmission_due), _opt_ts(follow_up_due),
            _opt_ts(min(running_dues) if running_dues else None), "t",
            str(assignee) if assignee else "\\N", str(channel_id), str(customer_id), topic_id,
            str(transition_count), str(handover_count), "f",
        )  # fmt: skip

    def _support_story(
        self, ticket_id: int, opened: float, posted: float, cm: int, agent: int,
        transition: Callable[..., bool], clock: Callable[..., float | None],
        reply: Callable[..., None], mentions: list[int], channel_id: int, identity_id: int,
        handle: str, is_private: bool,
    ) -> tuple[float | None, int | None, dict[str, Any]]:  # fmt: skip
        rng, now = self.rng, self.now
        extra: dict[str, Any] = {}
        state_box = {"state": "new", "at": opened}

        def move(name: str, to_state: str, at: float, actor: int | None) -> bool:
            if transition(name, to_state, at, actor):
                state_box.update(state=to_state, at=at)
                return True
            return False

        def done() -> tuple[float | None, int | None, dict[str, Any]]:
            extra.update(state=state_box["state"], state_changed=state_box["at"])
            resolved = state_box["at"] if state_box["state"] in ("resolved", "unsolvable") else None
            return resolved, agent, extra

        handed = opened + rng.uniform(40, 240)
        first_answer = handed + self.lognormal(150, 0.8)
        stop = clock("first_response", opened, 600, first_answer, posted_at=posted,
                     stopped_by=agent)  # fmt: skip
        if not move("assign_to_support", "support", handed, cm):
            return done()
        if rng.random() < 0.03 and move("return_to_cm", "new", handed + 120, agent):
            if move("assign_to_support", "support", handed + 400, cm):
                handed += 400
            else:
                return done()
        if not move("take", "in_progress", min(handed + rng.uniform(20, 120), first_answer), agent):
            return done()
        if stop is None:
            return done()
        reply("holding", stop, agent, private=is_private)
        at = stop + rng.uniform(120, 3600)
        branch = rng.random()
        if branch < 0.15:
            request_id = self.tables.new_id("tickets_departmentrequest")
            answer_at = at + self.lognormal(20 * 3600, 0.8)
            withdrawn = rng.random() < 0.08
            withdraw_at = at + rng.uniform(10 * 3600, 30 * 3600) if withdrawn else None
            if not move("ask_department", "waiting_department", at, agent):
                return done()
            self._department_request(
                ticket_id, at, None if withdrawn else answer_at, withdraw_at, agent, request_id
            )
            back = clock(
                "department_feedback", at, 48 * 3600, None if withdrawn else answer_at,
                cancel_at=withdraw_at, request_id=request_id,
            )  # fmt: skip
            if back is None:
                return done()
            if withdrawn:
                move("withdraw_department_request", "in_progress", back, agent)
            else:
                move("department_answered", "in_progress", back, None)
            at = back + rng.uniform(300, 4 * 3600)
        elif branch < 0.25:
            if not move("request_private_data", "waiting_customer", at, agent):
                return done()
            reply("ask_private", at, agent, private=is_private)
            if rng.random() < 0.3:
                move("close_no_response", "resolved", at + 7 * 86400, None)
                return done()
            dm_at = at + self.lognormal(3 * 3600, 1.0)
            if dm_at > now:
                return done()
            mentions.append(
                self._mention(ticket_id, channel_id, identity_id, handle, dm_at, dm_at - 20, True)
            )
            move("customer_replied", "in_progress", dm_at, None)
            answered = dm_at + self.lognormal(240, 0.8)
            stop = clock("next_response", dm_at, 600, answered, posted_at=dm_at - 20,
                         stopped_by=agent)  # fmt: skip
            if stop is None:
                return done()
            reply("answer", stop, agent, private=True)
            at = stop + rng.uniform(60, 1800)
        elif branch < 0.33:
            on = (datetime.fromtimestamp(at, UTC) + timedelta(days=rng.randint(1, 8))).date()
            due = datetime(on.year, on.month, on.day, 7, 0, tzinfo=UTC).timestamp()
            if not move("schedule_resubmission", "resubmission", at, agent):
                return done()
            extra.update(resubmission_on=on, resubmission_due=due)
            extra["handover_reference"] = f"KS-{ticket_id}"
            if not move("resubmission_due", "in_progress", due, None):
                return done()
            extra["follow_up_due"] = due
            at = due + self.lognormal(6 * 3600, 1.2)
        reply("answer", at, agent, private=is_private)
        if rng.random() < 0.05:
            if move("mark_unsolvable", "unsolvable", at + 60, agent):
                extra["topic_id"] = str(self.pick(self.context["topics"]))
        else:
            move("resolve", "resolved", at + rng.uniform(60, 3600), agent)
        return done()

    def _reviewer(self, author: int) -> int:
        """Four eyes: anyone of the staff but the author."""
        while (reviewer := self.pick(self.context["reviewers"])) == author:
            pass
        return reviewer

    # ---- rows

    def _channel_index(self) -> int:
        point, total = self.rng.random(), 0.0
        for index, (_slug, _name, _platform, share) in enumerate(CHANNELS):
            total += share
            if point < total:
                return index
        return len(CHANNELS) - 1

    def _customer(self, channel_index: int, platform: str, slug: str) -> tuple[int, int, str]:
        """A customer of the pool (pool entries belong to one channel each): created on first
        use, with one identity on the channel's platform."""
        per_channel = self.context["customers_per_channel"]
        slot = channel_index + len(CHANNELS) * self.rng.randrange(per_channel)
        known = self.context["customer_slots"].get(slot)
        if known:
            return known
        tables = self.tables
        customer_id = tables.new_id("crm_customer")
        identity_id = tables.new_id("crm_socialidentity")
        handle = f"kunde_{customer_id}"
        created = _ts(self.now - DAYS * 86400 - 3600)
        tables.add("crm_customer", str(customer_id), f"Kundin {customer_id}", created, "\\N")
        identity_platform = f"channel:{slug}" if platform == "rss" else platform
        tables.add(
            "crm_socialidentity", str(identity_id), identity_platform, "", handle,
            f"Kundin {customer_id}", created, str(customer_id), "",
        )  # fmt: skip
        self.context["customer_slots"][slot] = (customer_id, identity_id, handle)
        return customer_id, identity_id, handle

    def opened_at(self, special: str = "") -> float:
        if special == "due":
            return self.now - self.rng.uniform(11 * 60, 20 * 60)
        if special == "running":
            return self.now - self.rng.uniform(600, 30 * 3600)
        while True:  # fewer posts at night (desk time)
            at = self.now - self.rng.uniform(0, DAYS * 86400)
            hour = (int(at // 3600) + BERLIN_OFFSET_HOURS) % 24
            if hour >= 7 or self.rng.random() < 0.35:
                return at

    def _mention(
        self, ticket_id: int, channel_id: int, identity_id: int, handle: str,
        received: float, posted: float, is_private: bool,
    ) -> int:  # fmt: skip
        if not hasattr(self, "_mention_times") or self._mention_owner != ticket_id:
            self._mention_times: list[tuple[int, float]] = []
            self._mention_owner = ticket_id
        mention_id = self.tables.new_id("monitoring_mention")
        self.tables.add(
            "monitoring_mention", str(mention_id), f"seed-{mention_id}", "@" + handle,
            "Kundin", "", "Hallo, mein Paket ist nicht angekommen. Was nun?", _ts(posted),
            _ts(received), "", "", "t" if is_private else "f", "f", "f", "de", "{}",
            str(channel_id), str(identity_id), "\\N", str(ticket_id),
        )  # fmt: skip
        self._mention_times.append((mention_id, received))
        return mention_id

    def _event(
        self, ticket_id: int, kind: str, name: str, from_state: str, to_state: str,
        at: float, actor: int | None,
    ) -> None:  # fmt: skip
        self.tables.add(
            "tickets_ticketevent", str(self.tables.new_id("tickets_ticketevent")), kind, name,
            from_state, to_state, "", _ts(at), "{}", str(actor) if actor else "\\N",
            str(ticket_id),
        )  # fmt: skip

    def _department_request(
        self, ticket_id: int, created: float, answered: float | None,
        withdrawn: float | None, agent: int, request_id: int | None = None,
    ) -> int:  # fmt: skip
        tables, now = self.tables, self.now
        request_id = request_id or tables.new_id("tickets_departmentrequest")
        department_id, experts = self.pick(self.context["departments"])
        status, answer, closed, expert = "open", "", None, None
        if answered is not None and answered <= now:
            status, answer, closed, expert = "answered", "Ist erledigt.", answered, experts[0]
        elif withdrawn is not None and withdrawn <= now:
            status, closed = "withdrawn", withdrawn
        tables.add(
            "tickets_departmentrequest", str(request_id), "Könnt ihr das prüfen?", _ts(created),
            _ts(created + 48 * 3600), status, answer,
            _opt_ts(answered if status == "answered" else None), _opt_ts(closed),
            "Hat sich erledigt." if status == "withdrawn" else "",
            str(expert) if expert else "\\N", str(department_id), str(agent), str(ticket_id),
        )  # fmt: skip
        return request_id


def _people_and_places(now: datetime) -> dict[str, Any]:
    """Channels, users per role, departments and topics (get-or-create: idempotent)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from monitoring.models import Channel
    from servicedesk import roles
    from tickets.models import Department, Topic

    user_model = get_user_model()
    password = make_password(BENCH_PASSWORD)

    def users(prefix: str, count: int, group: str) -> list[int]:
        ids = []
        for index in range(1, count + 1):
            user, _created = user_model.objects.get_or_create(
                username=f"{prefix}{index}",
                defaults={"first_name": f"{prefix.title()} {index}", "password": password},
            )
            user.groups.add(Group.objects.get(name=group))
            ids.append(user.pk)
        return ids

    channels = []
    for slug, name, platform, _share in CHANNELS:
        channel, _created = Channel.objects.get_or_create(
            slug=slug, defaults={"name": name, "platform": platform, "own_accounts": ["desk_hilft"]}
        )
        channels.append((channel.pk, platform, slug))
    departments = []
    for slug, name in DEPARTMENTS:
        department, _created = Department.objects.get_or_create(slug=slug, defaults={"name": name})
        experts = users(f"expert_{slug.removeprefix('seed-')}_", EXPERTS_PER_DEPARTMENT,
                        roles.DEPARTMENT_EXPERT)  # fmt: skip
        department.experts.add(*experts)
        departments.append((department.pk, experts))
    topics = [
        Topic.objects.get_or_create(name=name, defaults={"created_at": now})[0].pk
        for name in TOPIC_NAMES
    ]
    agents = users("agent", AGENTS, roles.SUPPORT_AGENT)
    cms = users("cm", CMS, roles.COMMUNITY_MANAGER)
    users("lead", LEADS, roles.TEAM_LEAD)
    return {
        "channels": channels,
        "departments": departments,
        "topics": topics,
        "agents": agents,
        "cms": cms,
        "reviewers": agents + cms,
    }


def _drop_secondary_indexes(cursor: Any) -> list[str]:
    """Drop the indexes of the seeded tables that back no constraint; returns their
    definitions. Building an index once after the load is many times faster than keeping it
    up to date row by row."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(Tables.COLUMNS)],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in found]


def _create_indexes(cursor: Any, definitions: list[str]) -> None:
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for definition in definitions:
        cursor.execute(definition)


def _next_ids(cursor: Any) -> dict[str, int]:
    ids = {}
    for table in Tables.COLUMNS:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        ids[table] = cursor.fetchone()[0]
    return ids


def seed(
    tickets: int = 1_000_000,
    *,
    running: int = 0,
    due: int = 0,
    truncate: bool = True,
    now: datetime | None = None,
    random_seed: int = 20260101,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Seed `tickets` tickets into the database of DATABASE_URL (migrated first). Returns the
    rows written per table. `running` of the tickets get a running clock, `due` of those are
    past their deadline now."""
    if due > running:
        raise ValueError("--due cannot exceed --running")
    if running > tickets:
        raise ValueError("--running cannot exceed --tickets")
    _setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    say = progress or (lambda message: None)
    now = now or timezone.now()
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    with connection.cursor() as cursor:
        if truncate:
            cursor.execute(f"TRUNCATE {', '.join(SEEDED_TABLES)} RESTART IDENTITY CASCADE")
        context = _people_and_places(now)
        context.update(
            now=now.timestamp(),
            customers_per_channel=max(tickets // 3 // len(CHANNELS), 1),
            customer_slots={},
        )
        tables = Tables(_next_ids(cursor))
        counts = {table: 0 for table in Tables.COLUMNS}
        first_ids = dict(tables.next_ids)
        rng = random.Random(random_seed)
        simulation = Simulation(tables, rng, context)
        # Tickets in the order they arrived, as a live desk writes them: rows of one period lie
        # together on disk, which is what the range scans of the reports meet in production.
        plan = sorted(
            [(simulation.opened_at(), "") for _index in range(tickets - running)]
            + [(simulation.opened_at("due"), "due") for _index in range(due)]
            + [(simulation.opened_at("running"), "running") for _index in range(running - due)]
        )
        dropped = _drop_secondary_indexes(cursor) if truncate else []
        try:
            for index, (opened, special) in enumerate(plan):
                simulation.ticket(opened, special=special)
                if (index + 1) % CHUNK_TICKETS == 0 or index + 1 == tickets:
                    tables.flush(cursor)
                    say(f"{index + 1:>9,} tickets  {time.monotonic() - started:6.1f} s")
        finally:
            say(f"rebuilding {len(dropped)} indexes …")
            _create_indexes(cursor, dropped)
        for table, first in first_ids.items():
            counts[table] = tables.next_ids[table] - first
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"greatest((SELECT max(id) FROM {table}), 1))"
            )
    connection.close()
    # COPY ran with triggers off (replica role): the report facts are computed in one pass.
    say("report facts …")
    from tickets import facts

    facts.rebuild()
    say("VACUUM ANALYZE …")
    with connection.cursor() as cursor:
        for table in SEEDED_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    say(f"done in {time.monotonic() - started:.1f} s")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--running", type=int, default=0, help="tickets with a running clock")
    parser.add_argument("--due", type=int, default=0, help="of those, past their deadline now")
    parser.add_argument("--no-truncate", action="store_true", help="append instead of replace")
    parser.add_argument("--seed", type=int, default=20260101, help="random seed")
    options = parser.parse_args(argv)
    try:
        counts = seed(
            options.tickets,
            running=options.running,
            due=options.due,
            truncate=not options.no_truncate,
            random_seed=options.seed,
            progress=lambda message: print(message, flush=True),
        )
    except ValueError as error:
        parser.error(str(error))
    for table, count in counts.items():
        print(f"{table:<28} {count:>10,}")
    print(f"log in as lead1 / {BENCH_PASSWORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
