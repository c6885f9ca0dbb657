"""Exports for the client's accountant: DATEV files and the booking proposals that fill them.

``datev`` writes and reads DATEV's EXTF files (Buchungsstapel, Debitoren/Kreditoren);
``bookkeeping`` turns filed invoices into proposed bookings. Both are plain domain code: no
catalog session, no orchestration; callers pass data in and store what comes out.
"""

from backoffice.exports.bookkeeping import (
    AccountChoice,
    InvoiceFacts,
    PastBooking,
    ProposalError,
    choose_account,
    personal_account,
    propose_bookings,
)
from backoffice.exports.datev import (
    Booking,
    ExportError,
    ExtfFormatError,
    ExtfHeader,
    ParsedExtf,
    PersonalAccountRecord,
    parse_extf,
    write_buchungsstapel,
    write_buchungsstapel_files,
    write_debitoren_kreditoren,
)

__all__ = [
    "AccountChoice",
    "Booking",
    "ExportError",
    "ExtfFormatError",
    "ExtfHeader",
    "InvoiceFacts",
    "ParsedExtf",
    "PastBooking",
    "PersonalAccountRecord",
    "ProposalError",
    "choose_account",
    "parse_extf",
    "personal_account",
    "propose_bookings",
    "write_buchungsstapel",
    "write_buchungsstapel_files",
    "write_debitoren_kreditoren",
]
