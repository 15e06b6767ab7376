from django.apps import AppConfig


class PayConfig(AppConfig):
    name = "tandem.pay"
    label = "pay"
    verbose_name = "Pay parity between the front office and the back office"
