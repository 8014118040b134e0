"""Fill French translations from a JSON file {msgid: msgstr} and clear their fuzzy flag.
A plural entry is keyed by its singular msgid and given a list [singular, plural].

Usage: .venv/bin/python scripts/translate.py new.json   (then `make setup` compiles them)
"""

import json
import sys

from babel.messages.pofile import read_po, write_po

PATH = "translations/fr/LC_MESSAGES/messages.po"
wanted = json.load(open(sys.argv[1], encoding="utf-8"))
with open(PATH, "rb") as f:
    catalog = read_po(f)
for message in catalog:
    key = message.id[0] if isinstance(message.id, tuple) else message.id
    if key in wanted:
        value = wanted[key]
        message.string = tuple(value) if isinstance(value, list) else value
        message.flags.discard("fuzzy")
with open(PATH, "wb") as f:
    write_po(f, catalog, width=76)
