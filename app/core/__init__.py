"""The small core every feature builds on: errors, and (growing) storage, parsing, time."""
