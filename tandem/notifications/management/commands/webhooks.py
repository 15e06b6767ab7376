"""`tandem webhooks`: the webhook subscribers with their health (pending, failed, failing or
healthy); `--log SUBSCRIBER` its delivery log with every attempt; `--replay ID` sends one
delivery again, `--replay-failed [SUBSCRIBER]` every failed one (of one subscriber, or of all).
The worker sends what is replayed in its next round (docs/webhooks.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.notifications.actions import replay_delivery, replay_failed
from tandem.notifications.models import Delivery, Subscriber
from tandem.notifications.queries import subscriber_health
from tandem.refusal import Refused


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0].replace("`", "").replace("\n", " ")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--log", metavar="SUBSCRIBER", help="Show the delivery log of a subscriber (name or id).")
        parser.add_argument("--limit", type=int, default=20, help="Deliveries the log shows (default 20).")
        parser.add_argument("--replay", type=int, metavar="DELIVERY_ID", help="Send one delivery again.")
        parser.add_argument("--replay-failed", nargs="?", const="*", metavar="SUBSCRIBER",
                            help="Send every failed delivery again (of one subscriber, name or id; all without).")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["replay"] is not None:
                d = replay_delivery(None, options["replay"])
                return self._say(options, {"replayed": 1, "delivery": str(d.uuid)},
                                 f"Delivery {d.pk} ({d.uuid}) is sent again in the worker's next round.")
            if options["replay_failed"] is not None:
                which = None if options["replay_failed"] == "*" else self._subscriber(options["replay_failed"]).pk
                count = replay_failed(None, which)
                return self._say(options, {"replayed": count},
                                 f"{count} failed delivery(ies) are sent again in the worker's next round.")
        except Refused as refused:
            raise CommandError(refused.message) from None
        if options["log"]:
            return self._log(self._subscriber(options["log"]), options)
        return self._list(options)

    def _say(self, options: dict[str, Any], data: dict[str, Any], text: str) -> None:
        self.stdout.write(json.dumps(data) if options["json"] else text)

    def _subscriber(self, name_or_id: str) -> Subscriber:
        found = Subscriber.objects.filter(name=name_or_id).first()
        if found is None and name_or_id.isdigit():
            found = Subscriber.objects.filter(pk=int(name_or_id)).first()
        if found is None:
            names = ", ".join(Subscriber.objects.order_by("name").values_list("name", flat=True)[:20]) or "none yet"
            raise CommandError(f"There is no webhook subscriber {name_or_id!r}; subscribers: {names}.")
        return found

    def _list(self, options: dict[str, Any]) -> None:
        rows = []
        for s in Subscriber.objects.order_by("name"):
            counts = {st: Delivery.objects.filter(subscriber=s, status=st).count() for st in Delivery.Status.values}
            rows.append({"id": s.pk, "name": s.name, "url": s.url, "kinds": s.kinds, "active": s.active,
                         "from_settings": s.from_settings, "failing": s.failing, "health": subscriber_health(s),
                         **counts})
        if options["json"]:
            self.stdout.write(json.dumps({"subscribers": rows}))
            return
        if not rows:
            self.stdout.write("No webhook subscribers (add one in the admin site or POST /api/webhooks/subscribers).")
        for r in rows:
            self.stdout.write(f"#{r['id']} {r['name']} → {r['url']} [{', '.join(r['kinds'])}]: {r['health']}; "
                              f"{r['pending']} pending, {r['delivered']} delivered, {r['failed']} failed")

    def _log(self, subscriber: Subscriber, options: dict[str, Any]) -> None:
        deliveries = list(Delivery.objects.filter(subscriber=subscriber).order_by("-id")
                          .prefetch_related("attempt_log")[: options["limit"]])
        if options["json"]:
            self.stdout.write(json.dumps({"subscriber": subscriber.name, "deliveries": [
                {"id": d.pk, "delivery": str(d.uuid), "kind": d.kind, "request": d.request_id, "status": d.status,
                 "created_at": d.created_at.isoformat(), "attempts": [
                     {"at": a.at.isoformat(), "status_code": a.status_code, "milliseconds": a.milliseconds,
                      "error": a.error} for a in d.attempt_log.all()]}
                for d in deliveries]}))
            return
        self.stdout.write(f"{subscriber.name}: {subscriber_health(subscriber)}")
        for d in deliveries:
            self.stdout.write(f"#{d.pk} {d.kind} request {d.request_id} {d.status} ({d.uuid})")
            for a in d.attempt_log.all():
                answer = a.status_code if a.status_code is not None else "no answer"
                self.stdout.write(f"    {a.at:%Y-%m-%d %H:%M:%S} {answer} in {a.milliseconds} ms {a.error}".rstrip())
