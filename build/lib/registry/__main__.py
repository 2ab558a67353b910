"""``python -m registry``: validate the registry and print its vocabulary.

``python -m registry check`` loads every entry (exit status 1 with every problem listed
when one is malformed); ``python -m registry vocabulary`` prints the ``when`` facts, the
claim keys and the value models, from the one place that defines them.
"""

from __future__ import annotations

import argparse
import sys

from registry import VALUE_MODELS, RegistryError, load
from registry.vocabulary import CLAIM_KEYS, FACTS, KINDS, OPS, PASSES, PER_DIM, TOPICS


def vocabulary() -> str:
    """The registry's vocabulary as Markdown."""
    lines = ["## `when` facts", "", "| fact | meaning |", "| --- | --- |"]
    lines += [f"| `{name}`{' (per dimension)' if name in PER_DIM else ''} | {text} |"
              for name, text in FACTS.items()]
    lines += ["", "## claim keys", "", "| key | meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {text} |" for name, text in CLAIM_KEYS.items()]
    lines += ["", "## value models", "", "| model | what it computes |", "| --- | --- |"]
    lines += [f"| `{name}` | {' '.join((fn.__doc__ or '').split())} |"
              for name, fn in VALUE_MODELS.items()]
    lines += ["", f"ops: {', '.join(OPS)}; kinds: {', '.join(KINDS)}; passes: "
              f"{', '.join(PASSES)}", f"topics: {', '.join(TOPICS)}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry", description=__doc__)
    parser.add_argument("command", choices=("check", "vocabulary"))
    args = parser.parse_args(argv)
    if args.command == "vocabulary":
        print(vocabulary())
        return 0
    try:
        entries = load()
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{len(entries)} entries, every one valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
