"""The maths of the evidence: where a request's time went (``phases``), process-behaviour
charts (``control``) and procedure conformance (``conformance``). Reading and analysing whole
event logs is ``tandem.engines.eventlog``."""
