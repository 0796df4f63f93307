"""Stage 4, over all passages: passages whose sides overlap in a document are joined; a group
spanning three or more documents is a cluster, its earliest document by date the source.

The functions work on plain spans (document, start, end), so the engine can decide what a
cluster keeps before it builds a single `Passage`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from annotate.model import Cluster, Passage

Span = tuple[str, int, int]  # document id, [start, end) in characters


def overlap_groups(pairs: Sequence[tuple[Span, Span]]) -> list[list[int]]:
    """Indices of `pairs` joined when a side of one overlaps a side of another in the same
    document by at least half the shorter side (union-find); groups of two or more only."""
    parent = list(range(len(pairs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for i, pair in enumerate(pairs):
        for doc, start, end in pair:
            by_doc.setdefault(doc, []).append((start, end, i))
    for sides in by_doc.values():
        sides.sort()
        open_: list[tuple[int, int, int]] = []
        for start, end, i in sides:
            open_ = [o for o in open_ if o[1] > start]
            root = find(i)
            for o_start, o_end, j in open_:
                # overlap * 2 >= the shorter side (min() calls cost more than the rest here)
                if 2 * ((end if end < o_end else o_end) - start) >= (
                    end - start if end - o_end < start - o_start else o_end - o_start
                ):
                    other = find(j)
                    if other != root:
                        parent[other] = root
            open_.append((start, end, i))
    groups: dict[int, list[int]] = {}
    for i in range(len(pairs)):
        groups.setdefault(find(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def cluster_groups(pairs: Sequence[tuple[Span, Span]]) -> list[list[int]]:
    """The `overlap_groups` that span three or more documents: the clusters to be."""
    return [members for members in overlap_groups(pairs)
            if len({s[0] for i in members for s in pairs[i]}) >= 3]


def name_clusters(
    pairs: Sequence[tuple[Span, Span]], words: Sequence[int], ids: Sequence[str],
    order: dict[str, int], groups: Sequence[list[int]] | None = None,
) -> tuple[list[str | None], tuple[Cluster, ...]]:
    """Clusters `c1`, `c2`, ... (most documents first, then most words) of the groups
    spanning three or more documents, and each pair's cluster id (or None). `ids` are the
    passage ids; `order` ranks documents by date; `groups` are the `cluster_groups` of
    `pairs` when the caller has them already."""
    found = []
    for members in cluster_groups(pairs) if groups is None else groups:
        docs = {s[0] for i in members for s in pairs[i]}
        total = sum(words[i] for i in members)
        found.append((-len(docs), -total, min(members), members, docs))
    found.sort(key=lambda g: g[:3])
    clusters = []
    label: list[str | None] = [None] * len(pairs)
    for n, (_, _, _, members, docs) in enumerate(found, 1):
        cid = f"c{n}"
        ordered = sorted(docs, key=order.__getitem__)
        clusters.append(Cluster(cid, tuple(ids[i] for i in members), tuple(ordered),
                                ordered[0]))
        for i in members:
            label[i] = cid
    return label, tuple(clusters)


def cluster_passages(passages: Sequence[Passage], order: dict[str, int]) -> tuple[
    tuple[Passage, ...], tuple[Cluster, ...]
]:
    """Join passages whose sides overlap by at least half the shorter side in the same
    document; a group spanning three or more documents becomes a cluster `c1`, `c2`, ...
    (most documents first, then most words). `order` ranks documents by date."""
    pairs = [((p.a.doc, p.a.start, p.a.end), (p.b.doc, p.b.start, p.b.end)) for p in passages]
    label, clusters = name_clusters(pairs, [p.words for p in passages],
                                    [p.id for p in passages], order)
    out = tuple(replace(p, cluster=c) if c != p.cluster else p
                for p, c in zip(passages, label, strict=True))
    return out, clusters
