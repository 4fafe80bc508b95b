"""Jiaozhou economic-operation monitoring: ingestion, quality gate, alerts and reports."""
