"""Write what the grounding check knows of words, from WordNet 3.0 as Debian ships it (`apt-get
install wordnet-base`: /usr/share/wordnet, never downloaded), single words only:
assistant/data/antonyms.txt, one pair of opposite words per line, each pair once:

- WordNet's direct antonyms (adjectives, verbs, nouns, adverbs: "increase decrease"), and the
  other words of each one's sense ("allow", a word of "permit"'s sense, with "forbid");
- an adjective similar to a head adjective, with the head's antonym ("huge" is similar to
  "large", whose antonym is "small": "huge small"; the other way round from "small"'s side).

    python bench/make_wordnet.py [--wordnet /usr/share/wordnet]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "assistant" / "data"
HEADER = ("# From WordNet 3.0 (Princeton University; licence: https://wordnet.princeton.edu/license-and-commercial-use),\n"
          "# written by bench/make_wordnet.py.\n")
POS = ("adj", "adv", "noun", "verb")


def synsets(folder: Path) -> dict[tuple[str, str], tuple[list[str], list[tuple[str, str, int, int]]]]:
    """(pos letter, offset) -> (words, pointers as (symbol, target key, source word, target word))."""
    found = {}
    for pos in POS:
        for line in (folder / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue  # the licence header
            fields = line.split(" | ")[0].split()
            offset, kind, count = fields[0], fields[2], int(fields[3], 16)
            words = [fields[4 + 2 * i].lower().split("(")[0] for i in range(count)]
            at = 4 + 2 * count
            pointers = []
            for _ in range(int(fields[at])):
                symbol, target, target_pos, link = fields[at + 1:at + 5]
                pointers.append((symbol, (target_pos.replace("s", "a"), target), int(link[:2], 16),
                                 int(link[2:], 16)))
                at += 4
            found[(kind.replace("s", "a"), offset)] = (words, pointers)
    return found


def pairs(folder: Path) -> set[tuple[str, str]]:
    nets = synsets(folder)
    found: set[tuple[str, str]] = set()
    similar: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for key, (_, pointers) in nets.items():
        for symbol, target, _, _ in pointers:
            if symbol == "&":
                similar[key].append(target)
    for key, (words, pointers) in nets.items():
        for symbol, target, source, target_word in pointers:
            if symbol != "!" or target not in nets:
                continue
            word = words[source - 1]
            opposite = nets[target][0][target_word - 1]
            found.add((word, opposite))
            # The words of the same sense oppose it too ("allow" is "permit", whose opposite is "forbid").
            found.update((w, opposite) for w in words)
            found.update((word, w) for w in nets[target][0])
            if key[0] == "a":  # a head adjective: its satellites oppose the other head
                found.update((w, opposite) for s in similar[key] for w in nets[s][0])
    return {tuple(sorted(p)) for p in found if "_" not in p[0] + p[1] and p[0] != p[1]}  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    opposite = sorted(pairs(args.wordnet))
    (DATA / "antonyms.txt").write_text(HEADER + "".join(f"{a} {b}\n" for a, b in opposite), encoding="utf-8")
    print(f"{len(opposite)} antonym pairs -> {(DATA / 'antonyms.txt').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
