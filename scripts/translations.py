"""Keep the English catalog in step with the source: extract, merge, compile.

    .venv/bin/python scripts/translations.py            # update messages.po from the source, compile .mo

Message ids are the Chinese of the screens; platform/jiuzhu/translations/en/ holds the English.
A test fails when the catalog lacks a translation or the compiled .mo is stale.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "platform/jiuzhu/translations/en/LC_MESSAGES/messages.po"


def main() -> int:
    pot = ROOT / "build" / "messages.pot"
    pot.parent.mkdir(exist_ok=True)
    babel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run([*babel, "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "--omit-header", "--no-location", "-o", str(pot), "."], check=True, cwd=ROOT)
    subprocess.run([*babel, "update", "-i", str(pot), "-o", str(PO), "-l", "en", "--no-fuzzy-matching"], check=True)
    subprocess.run([*babel, "compile", "-d", str(ROOT / "platform/jiuzhu/translations"), "-D", "messages"], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
