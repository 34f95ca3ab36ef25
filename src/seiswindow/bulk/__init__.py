"""Bulk jobs: many windows cut at once and written out as data sets (issue 12)."""
