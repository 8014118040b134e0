"""The directory's result cards, each rendered once and kept.

Twenty cards say about 140 translated, escaped strings: their rendering took longer than the
search on PostgreSQL. A card's HTML depends only on its values (a `marketplace.Row`), the
reader's locale and whether it is recommended, and the key is exactly these: a new rating, a
completed dossier or another fee is another key, so a kept card is never stale. What depends
on the reader (the "choose" form of a client's dossier) stays outside, in `_results.html`.
"""

import functools

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from app.services.marketplace import Row
from blueprints.marketplace import bp


@bp.app_template_global()
def expert_card(row: Row, recommended: bool = False) -> Markup:
    if current_app.jinja_env.auto_reload:  # a developer editing _card.html sees the edit
        return _render(row, bool(recommended))
    return _kept(str(get_locale()), request.script_root, row, bool(recommended))


@functools.lru_cache(maxsize=4096)  # about 4 MB at most; a page reads the same 20 again
def _kept(_locale: str, _script_root: str, row: Row, recommended: bool) -> Markup:
    # the locale and the root of the links are part of the key; the render reads them from
    # the request, as any other
    return _render(row, recommended)


def _render(row: Row, recommended: bool) -> Markup:
    template = current_app.jinja_env.get_template("marketplace/_card.html")
    return Markup(template.render(p=row, recommended=recommended))
