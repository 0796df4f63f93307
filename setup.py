"""Package discovery, which pyproject.toml alone cannot combine with a mapped data package.

Every subpackage of annotate/ is found, not listed; namespace discovery also takes the report's
template and asset folders, so setuptools ships them without warning about them. The example
corpus stays in the top-level seeds/ folder of the checkout (where `annotate` finds it when run
there) and ships inside the wheel as the data package `annotate.seeds`, the default corpus of an
installed annotate.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["annotate", "annotate.*"], exclude=["*.__pycache__"]),
        "annotate.seeds",
    ],
    package_dir={"annotate.seeds": "seeds"},
)
