"""A process killed between a change's commit and its reactions loses none of them: the change
is there, its messages are owed, and the next worker round handles them (``tandem.outbox``).

The killing is exact, not a matter of timing: the action runs in a process where a consumer
that SIGKILLs it is first in line, so it dies right after the commit, before any reaction.
"""

from __future__ import annotations

import signal

from tests.stack import Stack


def test_a_submission_and_a_resolution_keep_their_reactions_through_a_kill(stack: Stack) -> None:
    seed = stack.inside("seed", requests=1)
    request = seed["requests"][0]

    assert stack.dies_inside("die_after_commit", action="submit") == -signal.SIGKILL
    assert stack.dies_inside("die_after_commit", action="resolve", request=request) == -signal.SIGKILL
    before = stack.inside("report")
    died = next(int(pk) for pk, r in before["requests"].items() if r["title"] == "dies after commit")
    assert before["requests"][str(request)]["status"] == "resolved"  # both changes committed
    assert died not in before["promised"]  # ... and none of their reactions ran
    assert [request, "resolved"] not in before["notified"]
    assert before["owed"] >= 3  # the promise, the resolution's notification and its forecast

    worker = stack.tandem("worker", "--once")
    assert worker.returncode == 0, worker.stderr

    after = stack.inside("report")
    assert died in after["promised"]
    assert [request, "resolved"] in after["notified"]  # the requester is told it is resolved
    assert (after["owed"], after["failed"]) == (0, 0)
    assert after["duplicated_notifications"] == [] and after["audit"]["ok"]
