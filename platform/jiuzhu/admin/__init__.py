"""The Flask-Admin shell: Chinese by default, menus by role, every view tenant-scoped."""

from jiuzhu.admin.setup import init_admin

__all__ = ["init_admin"]
