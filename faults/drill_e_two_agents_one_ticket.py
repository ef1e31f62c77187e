"""(e) Two agents transitioning one ticket at once → one success, one 409.

20 tickets are pushed and handed to Support by the CM. For each, two agents (each with
his own token and connection) wait at a barrier and `take` it at the same moment: for
half of the tickets with `expected_state: "support"`, for the other half without it. Each
pair must answer one 200 and one 409; the ticket must be in progress with the winner as
assignee and exactly one `take` event.
"""

from functools import partial

from faults.common import Api, Stack, Verdict, at_once, mention, say

NAME = "two_agents_one_ticket"
BUDGET_SECONDS = 180
TICKETS = 20
CHANNEL = "drill-e"


def run(stack: Stack) -> Verdict:
    base_url = stack.start_web()
    admin = Api(base_url, stack.token("drill-admin", superuser=True))
    status, body = admin.post(
        "/api/v1/channels/", {"slug": CHANNEL, "platform": "webhook", "name": "E"}
    )
    assert status == 201, (status, body)
    pusher = Api(base_url, stack.token("pusher"))
    cm = Api(base_url, stack.token("cm", "community_manager"))
    agents = {
        name: Api(base_url, stack.token(name, "support_agent")) for name in ("agent-1", "agent-2")
    }
    status, body = pusher.post(
        "/api/v1/mentions/",
        [mention(f"e-{n}", channel=CHANNEL, handle=f"kunde_{n}") for n in range(TICKETS)],
    )
    assert status == 201, (status, body)
    ticket_ids = [result["ticket"] for result in body["results"]]
    for ticket_id in ticket_ids:
        status, body = cm.post(
            f"/api/v1/tickets/{ticket_id}/transitions/",
            {"transition": "assign_to_support", "expected_state": "new"},
        )
        assert status == 200, (status, body)
    bad: list[str] = []
    for index, ticket_id in enumerate(ticket_ids):
        request = {"transition": "take"}
        if index % 2 == 0:
            request["expected_state"] = "support"
        path = f"/api/v1/tickets/{ticket_id}/transitions/"
        results = at_once([partial(client.post, path, request) for client in agents.values()])
        answers = dict(zip(agents, results, strict=True))
        statuses = sorted(status for status, _ in answers.values())
        winners = [name for name, (status, _) in answers.items() if status == 200]
        state, assignee = stack.sql(
            "SELECT t.state, u.username FROM tickets_ticket t "
            "LEFT JOIN auth_user u ON u.id = t.assignee_id WHERE t.id = %s",
            [ticket_id],
        )[0]
        takes = stack.scalar(
            "SELECT count(*) FROM tickets_ticketevent WHERE ticket_id = %s AND transition = 'take'",
            [ticket_id],
        )
        loser_codes = [body.get("code") for status, body in answers.values() if status == 409]
        if not (
            statuses == [200, 409]
            and state == "in_progress"
            and winners == [assignee]
            and takes == 1
        ):
            bad.append(f"#{ticket_id}: {statuses} state={state} assignee={assignee} takes={takes}")
        elif not all(loser_codes):
            bad.append(f"#{ticket_id}: 409 without an error code")
    say(NAME, f"{TICKETS} simultaneous pairs done")
    pairs_ok = TICKETS - len(bad)
    summary = (
        f"{TICKETS} tickets × 2 agents at once, {pairs_ok} with one 200 + one 409, "
        f"{len(bad)} otherwise"
    )
    figures = {"tickets": TICKETS, "pairs_ok": pairs_ok, "bad": bad[:5]}
    return Verdict(NAME, not bad, summary, figures)
