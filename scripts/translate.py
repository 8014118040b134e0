"""Fill French translations from a JSON file {msgid: msgstr} and clear their fuzzy flag.

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
    if message.id in wanted:
        message.string = wanted[message.id]
        message.flags.discard("fuzzy")
with open(PATH, "wb") as f:
    write_po(f, catalog, width=76)
