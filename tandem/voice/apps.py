from django.apps import AppConfig

from tandem.outbox.registry import subscribe


class VoiceConfig(AppConfig):
    name = "tandem.voice"
    label = "voice"
    verbose_name = "The internal customer's voice"

    def ready(self) -> None:
        # By its path: the reaction is imported when it first runs, not in every process.
        subscribe("pulse-months", ("history.imported",), "tandem.voice.reactions.react")
