"""Scan files in other programs' viewers (optional extras; nothing here imports them)."""
