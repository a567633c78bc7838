"""``cinexai annotate serve | add-reviewer | progress | export`` (the ``cinexai`` console script)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from cinexai.annotate.bundle import read_key_map, read_manifest
from cinexai.annotate.db import Store
from cinexai.annotate.marks import annotation_rows, write_annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cinexai.annotate.app import create_app

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        logging.warning("serving on %s: reachable from other machines; put TLS in front", args.host)
    uvicorn.run(
        create_app(args.bundle, args.db),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=False,
    )
    return 0


def _add_reviewer(args: argparse.Namespace) -> int:
    keys = read_manifest(args.bundle)["cases"]
    token = Store(args.db).add_reviewer(args.name, keys, admin=args.admin)
    base = args.base_url.rstrip("/")
    print(f"{base}/login#{token}")
    return 0


def _progress(args: argparse.Namespace) -> int:
    rows = Store(args.db).progress()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'reviewer':<24}{'assigned':>10}{'started':>10}{'submitted':>11}")
    for r in rows:
        print(f"{r['reviewer']:<24}{r['assigned']:>10}{r['started']:>10}{r['submitted']:>11}")
    return 0


def _export(args: argparse.Namespace) -> int:
    work = Store(args.db).all_work(submitted_only=not args.include_open)
    df = annotation_rows(work, read_key_map(args.key_map))
    write_annotations(df, args.out)
    print(f"wrote {len(df)} rows ({df['case_id'].nunique()} cases) to {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="cinexai", description=__doc__)
    sub = top.add_subparsers(dest="group", required=True)
    ann = sub.add_parser("annotate", help="blind expert annotation platform").add_subparsers(
        dest="command", required=True
    )
    serve = ann.add_parser("serve", help="run the web server")
    serve.add_argument("--bundle", required=True, help="bundle folder (annotate_bundle rule)")
    serve.add_argument("--db", required=True, help="SQLite file (created if missing)")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)
    add = ann.add_parser("add-reviewer", help="add a reviewer, print a one-time login link")
    add.add_argument("name")
    add.add_argument("--bundle", required=True)
    add.add_argument("--db", required=True)
    add.add_argument("--admin", action="store_true", help="progress view only, no cases")
    add.add_argument("--base-url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    add.set_defaults(func=_add_reviewer)
    prog = ann.add_parser("progress", help="cases assigned/started/submitted per reviewer")
    prog.add_argument("--db", required=True)
    prog.add_argument("--json", action="store_true")
    prog.set_defaults(func=_progress)
    exp = ann.add_parser("export", help="submitted annotations -> the grid's annotation CSV")
    exp.add_argument("--db", required=True)
    exp.add_argument("--key-map", required=True, help="key_map.csv written beside the bundle")
    exp.add_argument("--out", required=True)
    exp.add_argument("--include-open", action="store_true", help="also unsubmitted work")
    exp.set_defaults(func=_export)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
