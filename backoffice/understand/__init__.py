"""Understanding post: what a document is, whom it is for, what it says, and whether it adds up.

Public API (other stages code against these names):

* :func:`classify` - document type (``invoice``, ``reminder``, ``letter``, ``other``) with
  calibrated probabilities; trained spaCy model if present, keyword rules otherwise;
  :func:`train_textcat` builds the model.
* :func:`route_client` - the client (recipient) from the address on page 1 or a hint.
* :func:`extract_fields` - canonical fields from page text (and word boxes).
* :func:`validate` - German flags for arithmetic, dates, identifiers, §14 UStG contents.
* :func:`parse_einvoice` - fields from ZUGFeRD/Factur-X/XRechnung XML.
* :func:`understand_document` - all of the above for one document.

Module map: ``schema`` (value objects), ``normalize`` (amounts, dates, IBAN, VAT-ID), ``labels``
(label vocabularies), ``layout``/``address`` (lines, DIN 5008 zones), ``rules``/``textcat``
(classification), ``routing``, ``extract``, ``validate``, ``einvoice``, ``pipeline``.
"""

from .einvoice import EInvoice, parse_einvoice, read_einvoice
from .extract import extract_fields
from .pipeline import understand_document
from .routing import route_client
from .rules import classify_rules
from .schema import (
    DOC_TYPES,
    Classification,
    ClientProfile,
    Field,
    Routing,
    Understanding,
    WordLike,
)
from .textcat import classify, load_textcat, train_textcat
from .validate import validate

__all__ = [
    "DOC_TYPES",
    "Classification",
    "ClientProfile",
    "EInvoice",
    "Field",
    "Routing",
    "Understanding",
    "WordLike",
    "classify",
    "classify_rules",
    "extract_fields",
    "load_textcat",
    "parse_einvoice",
    "read_einvoice",
    "route_client",
    "train_textcat",
    "understand_document",
    "validate",
]
