"""Exchange formats: the corpus with its annotations out of annotate, and annotations back in.

One module per format, each readable and changeable alone:

- `tei_export` / `tei_import`: TEI P5, one `teiCorpus` file (the subset is described in
  `tei_export`); the import reads back that subset only.
- `webanno`: W3C Web Annotation JSON-LD, out and in (also other tools' annotations).
- `csv_export`: a row per annotation, safe to open in a spreadsheet.
- `collation`: two documents word by word in TEI parallel segmentation.
- `qdc`: the REFI-QDA codebook (.qdc), out and in.

Shared by them: `pointers` (xml:ids, pointers into the text and their resolution), `data` (what
an export carries and what an import gives back), `formats` (the format names, `export_bytes`
and `read_export`), and `importing` (an import merged into the store, nothing overwritten).
lxml comes from `annotate.markup` only. Nothing here is imported by `annotate --help`.
"""
