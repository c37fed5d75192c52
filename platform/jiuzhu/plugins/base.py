"""The base class of every jurisdiction plugin.

A plugin is declarative, in the manner of Indico's ``IndicoPlugin``: class attributes say what it
is and what it supplies, and the core calls it directly. Plugins build on one another by
inheritance (the national baseline in the core, Anhui's counties sharing rules).
"""

from __future__ import annotations

from typing import ClassVar

#: The plugin API this core offers, ``MAJOR.MINOR``. A plugin declares the version it was written
#: for; it loads if the major versions are equal and its minor is not newer than the core's.
PLUGIN_API_VERSION = "1.0"


class JurisdictionPlugin:
    #: entry-point name and the value stored on each tenant, e.g. ``shexian``
    key: ClassVar[str] = ""
    #: the jurisdiction's name as county staff say it, e.g. 歙县
    name: ClassVar[str] = ""
    #: province-level region, e.g. 安徽省
    province: ClassVar[str] = ""
    #: the source document the rules come from (file under shared/seeds), with its number
    #: the document the plugin's rules come from, as printed on documents (its number and title)
    source_document: ClassVar[str] = ""
    #: the file of its text among the project's source documents (for the docs and tests, never printed)
    source_seed: ClassVar[str] = ""
    #: the plugin API version this plugin was written for
    api_version: ClassVar[str] = PLUGIN_API_VERSION

    # The engine's calls into a plugin. ``jiuzhu.plugins.baseline.BaselinePlugin`` implements every
    # one of them with the national rules; jurisdiction plugins subclass it and override what their
    # source document changes.

    def workflow_for(self, case):
        """The :class:`~jiuzhu.workflow.spec.Workflow` a case runs through."""
        raise NotImplementedError

    def materials_for(self, case) -> list:
        """The materials checklist of a new case (``MaterialSpec`` items)."""
        raise NotImplementedError

    def check_application(self, household, categories: list[str], consent: bool, on) -> list[str]:
        """Refusals of a new application (Chinese messages); empty when it may be filed."""
        raise NotImplementedError

    def check_outcome(self, case, view, spec, outcome, data: dict, on) -> list[str]:
        """The plugin's own preconditions of an outcome (Chinese messages)."""
        raise NotImplementedError

    def benefit_start(self, case, decided_on):
        """The first day of the first month benefits are paid for."""
        raise NotImplementedError

    def on_outcome(self, session, user, case, view, spec, outcome, data: dict, on) -> None:
        """Called by the engine once an outcome has been applied (its decision made, before the next
        steps open), in the same transaction: the plugin records what follows from it under its
        document (payments, registers). Raising ``ValidationError`` refuses the whole action."""
        return None

    def validate(self) -> list[str]:
        """Problems that must stop the application from starting (empty when the plugin is sound)."""
        problems = []
        if not self.key or not self.key.isidentifier() or self.key != self.key.lower():
            problems.append(f"key {self.key!r} must be a lower-case identifier")
        if not self.name:
            problems.append("name is empty")
        return problems

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"
