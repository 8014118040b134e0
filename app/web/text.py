"""How a message's text is shown: escaped, with its links made clickable and nothing else."""

import re

from markupsafe import Markup, escape

# http(s) links up to the next space; trailing punctuation stays text
_URL = re.compile(r"https?://[^\s<]+[^\s<.,;:!?)\]'\"»]")


def linkify(text: str) -> Markup:
    escaped = str(escape(text))
    linked = _URL.sub(
        lambda m: f'<a href="{m.group(0)}" rel="nofollow noopener noreferrer">{m.group(0)}</a>',
        escaped,
    )
    return Markup(linked)
