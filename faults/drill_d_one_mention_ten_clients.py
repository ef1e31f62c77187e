"""(d) One mention pushed by 10 clients at once → one mention, one ticket.

Ten API accounts, each with its own HTTP connection, wait at a barrier and POST the same
mention together; 20 rounds with a new mention (and a new author) each. Every round must
answer one `created` (201) and nine `duplicate` (200) naming the same mention and ticket,
and the database must hold exactly one mention and one ticket for it.
"""

from functools import partial

from faults.common import Api, Stack, Verdict, at_once, mention, say

NAME = "one_mention_ten_clients"
BUDGET_SECONDS = 180
CLIENTS = 10
ROUNDS = 20
CHANNEL = "drill-d"


def run(stack: Stack) -> Verdict:
    base_url = stack.start_web()
    admin = Api(base_url, stack.token("drill-admin", superuser=True))
    status, body = admin.post(
        "/api/v1/channels/", {"slug": CHANNEL, "platform": "webhook", "name": "D"}
    )
    assert status == 201, (status, body)
    clients = [Api(base_url, stack.token(f"pusher-{number}")) for number in range(CLIENTS)]
    bad_rounds: list[str] = []
    for round_number in range(ROUNDS):
        external_id = f"d-{round_number}"
        body_of = mention(external_id, channel=CHANNEL, handle=f"kunde_{round_number}")
        answers = at_once(
            [partial(client.post, "/api/v1/mentions/", body_of) for client in clients]
        )
        statuses = sorted(status for status, _ in answers)
        results = {(body.get("id"), body.get("ticket")) for _, body in answers}
        kinds = sorted(body.get("status", "?") for _, body in answers)
        stored = stack.scalar(
            "SELECT count(*) FROM monitoring_mention WHERE external_id = %s", [external_id]
        )
        tickets = stack.scalar(
            "SELECT count(DISTINCT ticket_id) FROM monitoring_mention WHERE external_id = %s",
            [external_id],
        )
        ok = (
            statuses == [200] * (CLIENTS - 1) + [201]
            and kinds == ["created"] + ["duplicate"] * (CLIENTS - 1)
            and len(results) == 1
            and stored == 1
            and tickets == 1
        )
        if not ok:
            bad_rounds.append(
                f"{external_id}: {statuses} {kinds} stored={stored} tickets={tickets}"
            )
    say(NAME, f"{ROUNDS} rounds of {CLIENTS} simultaneous pushes done")
    mentions_total = stack.scalar("SELECT count(*) FROM monitoring_mention")
    tickets_total = stack.scalar("SELECT count(*) FROM tickets_ticket")
    customers_total = stack.scalar("SELECT count(*) FROM crm_customer")
    passed = not bad_rounds and mentions_total == ROUNDS and tickets_total == ROUNDS
    figures = {
        "rounds": ROUNDS,
        "clients": CLIENTS,
        "pushes": ROUNDS * CLIENTS,
        "mentions_stored": mentions_total,
        "tickets": tickets_total,
        "customers": customers_total,
        "bad_rounds": bad_rounds[:5],
    }
    summary = (
        f"{ROUNDS} rounds × {CLIENTS} clients, {mentions_total} mentions, {tickets_total} tickets, "
        f"{customers_total} customers, {len(bad_rounds)} bad rounds"
    )
    return Verdict(NAME, passed, summary, figures)
