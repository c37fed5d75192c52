"""Publicity (公示): the public list of households derived from cases and the plugin's
:class:`~jiuzhu.plugins.rules.DisclosureRule` — who is shown, where, with which fields.

``jiuzhu.disclosure.services.public_list`` is a pure function over cases and households; the
loader ``publicity_list`` reads them in the caller's scope. The public page comes later.
"""
