"""Strip outputs and per-machine metadata from every notebook in book/, solutions/, exercises/.

    python tools/clean_notebooks.py          # rewrite notebooks that are not clean
    python tools/clean_notebooks.py --check  # list them and exit 1 (used by the tests)
"""
import argparse
import copy
import sys

from notebooks import ROOT, all_notebooks, clean, dumps, read


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if a notebook is not clean")
    args = parser.parse_args(argv)
    dirty = []
    for path in all_notebooks():
        text = path.read_text(encoding="utf-8")
        cleaned = dumps(clean(copy.deepcopy(read(path))))
        if cleaned != text:
            dirty.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(cleaned, encoding="utf-8")
    for p in dirty:
        print(("not clean: " if args.check else "cleaned: ") + str(p))
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
