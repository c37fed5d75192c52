"""Jurisdiction plugins: one sub-package per county whose source document Jiuzhu implements."""
