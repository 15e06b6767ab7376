"""Tandem: the service hub between an organisation's front office and its back office."""

__version__ = "0.1.0"
