"""The housing lottery, in a form anyone can repeat: plain Python and SHA-256, no Django.

Before the draw staff publish a public random value (e.g. the winning numbers of a named
public lottery draw, known only after applications close). The round's seed is
``SHA-256("<public value>|<round id>")``; each approved application's ticket is
``SHA-256("<seed>|<application number>")`` in hexadecimal. Within each list, applicants are
ordered by priority group (in the round's order) and then by ticket, smallest first.

To check a published result, run::

    python -m apartments.lottery "<public value>" <round id> entries.json

where ``entries.json`` is the round's published draw input (a list of objects with
``reference``, ``list`` and ``group``) and the groups' order; it prints the ranks."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    reference: str  # the published application number, e.g. "R3-00042"
    applicant_list: str
    bucket: str


@dataclass(frozen=True)
class Ranked:
    reference: str
    applicant_list: str
    bucket: str
    ticket: str
    bucket_rank: int
    rank: int


def seed_digest(public_seed: str, round_id: int) -> str:
    return hashlib.sha256(f"{public_seed.strip()}|{round_id}".encode()).hexdigest()


def ticket(digest: str, reference: str) -> str:
    return hashlib.sha256(f"{digest}|{reference}".encode()).hexdigest()


def draw(*, public_seed: str, round_id: int, entries: Iterable[Entry], buckets: list[str]) -> list[Ranked]:
    """Rank ``entries`` per list: by the group's place in ``buckets`` (unknown groups last),
    then by ticket. The same inputs give the same ranks, whatever order they come in."""
    digest = seed_digest(public_seed, round_id)
    place = {code: i for i, code in enumerate(buckets)}
    by_list: dict[str, list[tuple[int, str, Entry]]] = defaultdict(list)
    for entry in entries:
        by_list[entry.applicant_list].append(
            (place.get(entry.bucket, len(buckets)), ticket(digest, entry.reference), entry)
        )
    ranked: list[Ranked] = []
    for applicant_list in sorted(by_list):
        rows = sorted(by_list[applicant_list], key=lambda row: (row[0], row[1]))
        in_bucket: dict[str, int] = defaultdict(int)
        for rank, (_place, tick, entry) in enumerate(rows, start=1):
            in_bucket[entry.bucket] += 1
            ranked.append(
                Ranked(
                    reference=entry.reference,
                    applicant_list=applicant_list,
                    bucket=entry.bucket,
                    ticket=tick,
                    bucket_rank=in_bucket[entry.bucket],
                    rank=rank,
                )
            )
    return ranked


def main(argv: list[str]) -> int:  # pragma: no cover - a command-line convenience
    if len(argv) != 3:
        print(__doc__)
        return 2
    public_seed, round_id, path = argv[0], int(argv[1]), argv[2]
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    entries = [Entry(e["reference"], e["list"], e["group"]) for e in data["entries"]]
    for row in draw(public_seed=public_seed, round_id=round_id, entries=entries, buckets=data["groups"]):
        print(f"{row.applicant_list}\t{row.rank}\t{row.bucket}\t{row.bucket_rank}\t{row.reference}\t{row.ticket}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
