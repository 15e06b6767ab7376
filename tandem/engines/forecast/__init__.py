"""Forecasts of demand: daily arrivals for the weeks ahead (``arrivals``)."""
