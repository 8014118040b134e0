"""List the French catalogue's untranslated or fuzzy entries (after `make translations`)."""

from babel.messages.pofile import read_po

with open("translations/fr/LC_MESSAGES/messages.po", "rb") as f:
    catalog = read_po(f)
for message in catalog:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if message.id and (not all(strings) or message.fuzzy):
        print(repr(message.id), "FUZZY" if message.fuzzy else "")
