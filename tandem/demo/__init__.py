"""The demo organisation: a recruitment agency with six months of simulated history.

``organisation`` holds it as plain data, ``load`` writes it (and the history the engine
``tandem.engines.history`` simulates for it) into the database. ``tandem demo`` runs both.
"""
