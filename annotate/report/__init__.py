"""The static HTML report: an overview, a reading view per statement and the reuse views,
written as plain files that open offline (no server, nothing fetched from the network).

`data.py` gathers and indexes what the pages show, `plots.py` draws the SVG plots, `reading.py`
marks up a statement's text, `site.py` renders the Jinja templates and writes the folder.
"""

from annotate.report.data import ReportData
from annotate.report.site import ReportSummary, write_report

__all__ = ["ReportData", "ReportSummary", "write_report"]
