"""Shared-passage detection across a corpus: which words did one statement share with another,
verbatim or with small edits?

One pipeline of pure stages over plain data (strings, tuples, numpy arrays), each in its own
module, so an engine can map them over documents, shards or pairs:

1. `fingerprint` (per document): word tokens with offsets and hashed word n-grams.
2. `shards` + `seeds` (per shard of the shingle index, cut by hash): shingles shared by two
   documents become seeds of that pair; boilerplate (`--max-df`) is dropped; then seeds on
   one diagonal join into runs.
3. `align` (per document pair): runs chained and aligned word by word into passages of
   `min_words`+ matching words, kept when `chance` finds their shared words unlikely to
   line up by chance (`--min-bits`).
4. `clusters` (corpus): overlapping passages across 3+ documents, earliest source first.

`engine` maps them on this machine (`find_reuse`); `output` writes JSON as it goes.
Boilerplate is kept out four ways, all adjustable: `min_words`; more than one seed; no
stopword-only shingles; `df_limit`; and the chance rule.
"""

from annotate.reuse.align import Match, align_pair, chain_boxes
from annotate.reuse.chance import DEFAULT_MIN_BITS, WordBits, word_bits, word_counts
from annotate.reuse.clusters import cluster_passages
from annotate.reuse.engine import ReuseResult, align_all, find_reuse, passages_between
from annotate.reuse.fingerprint import Fingerprint, fingerprint, fingerprints
from annotate.reuse.output import reuse_json, write_json, write_jsonl
from annotate.reuse.params import (
    DEFAULT_GAP,
    DEFAULT_MAX_DF,
    DEFAULT_MIN_WORDS,
    DEFAULT_NGRAM,
    DF_FLOOR,
    STOPWORDS,
)
from annotate.reuse.seeds import Runs, Seeds, df_limit, group_shard, pair_slices, seed_runs
from annotate.reuse.shards import Shard, make_shard, shard_count

__all__ = [
    "DEFAULT_GAP", "DEFAULT_MAX_DF", "DEFAULT_MIN_BITS", "DEFAULT_MIN_WORDS", "DEFAULT_NGRAM",
    "DF_FLOOR", "STOPWORDS", "Fingerprint", "Match", "ReuseResult", "Runs", "Seeds", "Shard",
    "WordBits", "align_all", "align_pair", "chain_boxes", "cluster_passages", "df_limit",
    "find_reuse", "fingerprint", "fingerprints", "group_shard", "make_shard", "pair_slices",
    "passages_between", "reuse_json", "seed_runs", "shard_count", "word_bits", "word_counts",
    "write_json", "write_jsonl",
]
