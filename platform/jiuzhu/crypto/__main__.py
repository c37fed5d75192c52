"""Key files without the application (which does not start without keys)::

    python -m jiuzhu.crypto generate /etc/jiuzhu/keys.json        # a new file, mode 600
    python -m jiuzhu.crypto add-key /etc/jiuzhu/keys.json field   # a new active key (field, blind_index, audit)

After ``add-key``, restart every process (web, workers, rq cron) so that they all write under the
new key, then run ``flask --app wsgi keys rotate`` (``--blind-index`` for a blind-index key).
"""

from __future__ import annotations

import argparse
import json
import sys

from jiuzhu.config import ConfigError
from jiuzhu.crypto.keys import (
    PURPOSES,
    add_key,
    generate_document,
    parse_keyring,
    read_key_file,
    write_key_file,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jiuzhu.crypto", description="Jiuzhu key files.")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a new key file (refuses to overwrite one)")
    gen.add_argument("path")
    gen.add_argument("--if-missing", action="store_true", help="do nothing when the file exists (the demo)")
    add = commands.add_parser("add-key", help="add a fresh key to a purpose and make it the active one")
    add.add_argument("path")
    add.add_argument("purpose", choices=list(PURPOSES))
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            from pathlib import Path

            if args.if_missing and Path(args.path).exists():
                return 0
            write_key_file(args.path, generate_document(), replace=False)
            print(f"wrote {args.path} (mode 600): one field, one blind-index and one audit key")
            return 0
        document = read_key_file(args.path)
        parse_keyring(document, args.path)
        key_id = add_key(document, args.purpose)
        write_key_file(args.path, document, replace=True)
        print(f"added {args.purpose} key {key_id}, now active. Restart every process, then run "
              f"`flask --app wsgi keys rotate{' --blind-index' if args.purpose == 'blind_index' else ''}`"
              f"{'' if args.purpose != 'audit' else ' (not needed: new audit events use it, old ones keep theirs)'}.")
        return 0
    except (ConfigError, FileExistsError, ValueError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
