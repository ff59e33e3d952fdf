"""Invoiced: collections tasks."""
