from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "tandem.voice"
    label = "voice"
    verbose_name = "The internal customer's voice"
