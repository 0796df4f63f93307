"""Stage 4, over all passages: passages whose sides overlap in a document are joined; a group
spanning three or more documents is a cluster, its earliest document by date the source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from annotate.model import Cluster, Passage


def cluster_passages(passages: Sequence[Passage], order: dict[str, int]) -> tuple[
    tuple[Passage, ...], tuple[Cluster, ...]
]:
    """Join passages whose sides overlap by at least half the shorter side in the same
    document; a group spanning three or more documents becomes a cluster `c1`, `c2`, ...
    (most documents first, then most words). `order` ranks documents by date."""
    parent = list(range(len(passages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for i, p in enumerate(passages):
        for s in (p.a, p.b):
            by_doc.setdefault(s.doc, []).append((s.start, s.end, i))
    for sides in by_doc.values():
        sides.sort()
        open_: list[tuple[int, int, int]] = []
        for start, end, i in sides:
            open_ = [o for o in open_ if o[1] > start]
            for o_start, o_end, j in open_:
                overlap = min(end, o_end) - start
                if overlap * 2 >= min(end - start, o_end - o_start):
                    parent[find(i)] = find(j)
            open_.append((start, end, i))
    groups: dict[int, list[int]] = {}
    for i in range(len(passages)):
        groups.setdefault(find(i), []).append(i)
    found = []
    for members in groups.values():
        docs = {d for i in members for d in (passages[i].a.doc, passages[i].b.doc)}
        if len(docs) >= 3:
            words = sum(passages[i].words for i in members)
            found.append((-len(docs), -words, min(members), members, docs))
    found.sort(key=lambda g: g[:3])
    clusters = []
    label: dict[int, str] = {}
    for n, (_, _, _, members, docs) in enumerate(found, 1):
        cid = f"c{n}"
        ordered = sorted(docs, key=order.__getitem__)
        clusters.append(Cluster(cid, tuple(passages[i].id for i in members), tuple(ordered),
                                ordered[0]))
        for i in members:
            label[i] = cid
    out = tuple(replace(p, cluster=label.get(i)) for i, p in enumerate(passages))
    return out, tuple(clusters)
