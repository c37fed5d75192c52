"""The domain's words for the English catalog: step and outcome names, statuses, categories, form and
setting labels are data in the code (``StepSpec("decision", "审核确认", …)``, ``metadata={"label": …}``,
``LABELS = {…}``), not ``_()`` calls, so Babel's own Python extractor does not see them. This extractor
(named in ``babel.cfg``) yields what Babel's finds plus those words; screens show them through the
``term`` filter (``{{ case.status.label|term }}``), while documents — official Chinese papers — never do.
"""

from __future__ import annotations

import ast
import re

from babel.messages.extract import extract_python
from flask import has_request_context, request
from flask_babel import LazyString, get_translations

CHINESE = re.compile(r"[\u4e00-\u9fff]")
#: constructors whose second positional argument is a label
LABELLED = {"StepSpec", "Outcome"}


def _is_term(value) -> bool:
    """A short Chinese label (not a sentence with placeholders, not a source quotation)."""
    return (isinstance(value, str) and bool(CHINESE.search(value)) and len(value) <= 40
            and "{" not in value and "%" not in value and "\n" not in value)


def _strings(node) -> list[tuple[int, str]]:
    return [(node.lineno, node.value)] if isinstance(node, ast.Constant) and _is_term(node.value) else []


def terms(source: str) -> list[tuple[int, str]]:
    """(line, label) of every domain word in a module's source."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in LABELLED and len(node.args) >= 2:
                found += _strings(node.args[1])
            for kw in node.keywords:
                if kw.arg == "label":
                    found += _strings(kw.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "label":
                    found += _strings(value)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id.endswith("LABELS") for t in targets) and isinstance(
                    node.value, ast.Dict):
                for value in node.value.values:
                    found += _strings(value)
        elif isinstance(node, ast.FunctionDef) and node.name == "label":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Dict):
                    for value in inner.values:
                        found += _strings(value)
    return found


def term(word):
    """A domain word (a label held as data) in the request's language; unknown words as they are."""
    if not word:
        return word
    return gettext(str(word))


_TRANSLATIONS = "jiuzhu.translations"


def translations():
    """The request's translations, looked up once per request. Flask-Babel looks them up anew for
    every word (its context, its locale, its cache): on a list of fifty rows that was about two
    hundred lookups a page. Outside a request, Flask-Babel's own lookup."""
    if not has_request_context():
        return get_translations()
    environ = request.environ
    found = environ.get(_TRANSLATIONS)
    if found is None:
        found = environ[_TRANSLATIONS] = get_translations()
    return found


def gettext(message: str) -> str:
    """``message`` in the request's language (:func:`translations`)."""
    return translations().ugettext(message)


def lazy(message: str) -> LazyString:
    """``message`` translated when it is shown, through :func:`gettext` — for words fixed at import
    (the menu's, the forms' labels): the menu alone shows some fifty on every admin page, and
    Flask-Babel's ``lazy_gettext`` looked the translations up anew for each."""
    return LazyString(gettext, message)


def install(app) -> None:
    """Templates' ``_``, ``ngettext``, ``pgettext`` and ``npgettext`` and the ``term`` filter through
    :func:`translations` (the same words as Flask-Babel's, found once per request)."""
    app.jinja_env.filters["term"] = term  # a domain word in the screen's language (never in documents)
    app.jinja_env.install_gettext_callables(
        gettext=gettext,
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)


def extract(fileobj, keywords, comment_tags, options):
    """Babel's Python extraction, then the domain's words of the same module."""
    source = fileobj.read()
    import io

    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    try:
        words = terms(source.decode("utf-8"))
    except SyntaxError:
        return
    for lineno, word in words:
        yield lineno, None, word, ["domain term"]
