"""Defaults and shared types of the reuse stages (one place, so every stage and engine agrees)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# Six matching words: on seeds/ this keeps the phrase that travels from 2007 to 2025 ("people
# with no right to be in the UK") and nothing else; at five, chance phrases appear ("who come
# to the UK", "our international partners ... to tackle").
DEFAULT_MIN_WORDS = 6
DEFAULT_NGRAM = 3
# A shingle in more than this fraction of the documents is boilerplate; a value above 1 is a
# number of documents instead. Small corpora never drop anything below DF_FLOOR documents,
# since there a phrase in every statement is exactly the travelling phrase we look for.
DEFAULT_MAX_DF = 0.05
DF_FLOOR = 10
# A shingle with at most this many occurrences seeds every pair of them (see `group_seeds`).
FULL_PAIRS = 10
# Most words allowed between two chained seeds on either side.
DEFAULT_GAP = 30
# Within a chain, an unmatched word costs this many matched ones: a passage is cut where its
# gaps outweigh the matches either side (so chance seeds far apart do not join up).
GAP_COST = 0.5
# Words beyond a passage's last seed that may still join it (see `align._align`).
MARGIN = 6
# Corpora larger than this (characters) are fingerprinted in worker processes.
PARALLEL_CHARS = 2_000_000
# ... and beyond this many words, their shards grouped, runs joined and chance-rule word bits
# counted in processes of their own.
PARALLEL_WORDS = 400_000
# ... and more seed runs than this are aligned in worker processes.
PARALLEL_RUNS = 20_000
# Shingles per shard of the index: grouping holds one shard's sorted arrays at a time
# (about 90 bytes a shingle at its peak), so this bounds the grouping stage's memory whatever
# the corpus.
SHARD_SHINGLES = 4_000_000

# Seeds joined into runs at a time by one process (about 100 bytes a seed while sorting).
RUN_SEEDS = 3_000_000

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how i
    if in into is it its itself just let me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up upon very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say mr mrs ms""".split()
)

IntArray = npt.NDArray[np.signedinteger[Any]]
HashArray = npt.NDArray[np.uint64]
Box = tuple[int, int, int, int]
