"""Sample post: a seeded generator of realistic German business documents with ground truth.

The corpus doubles as demo data, as fixtures for tests and as training and evaluation data for
classification and extraction. Typical use::

    from backoffice.samples import generate
    result = generate(Path("var/samples"), seed=7, n_documents=60)
    result.ground_truth["documents"][0]["fields"]["gross_total"]

:data:`DEMO_CLIENTS` are the three demo clients of the office service (the recipients of all
generated post); :data:`ALL_LAYOUTS` names the house styles ``generate(layouts=...)`` accepts.
"""

from backoffice.samples.clients import DEMO_CLIENTS, SampleClient
from backoffice.samples.generator import GeneratedSet, SampleDocument, generate
from backoffice.samples.layouts import ALL_LAYOUTS

__all__ = [
    "ALL_LAYOUTS",
    "DEMO_CLIENTS",
    "GeneratedSet",
    "SampleClient",
    "SampleDocument",
    "generate",
]
