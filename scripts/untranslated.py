"""List the French catalogue's untranslated or fuzzy entries (after `make translations`)."""

from babel.messages.pofile import read_po

with open("translations/fr/LC_MESSAGES/messages.po", "rb") as f:
    catalog = read_po(f)
for message in catalog:
    if message.id and (not message.string or message.fuzzy):
        print(repr(message.id), "FUZZY" if message.fuzzy else "")
