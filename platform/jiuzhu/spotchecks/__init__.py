"""The county's supervision of new cases (监督检查): spot checks of newly approved households (抽查),
the registry of households related to handling staff (近亲属关系备案) and real-name reports (实名举报).

Driven by the plugin's :class:`~jiuzhu.plugins.rules.SpotCheckRule`. County-level work only: the rows
are invisible to townships and villages, and only county roles may write them.
"""
