"""Full-text search over the archive: one interface, two backends.

* :func:`index_document` (idempotent) is called whenever a document is filed or corrected; it
  writes the search facts (:class:`SearchEntry`: sender, amount) and the full text.
* :func:`search` answers the archive list and the API: free text combined with filters, always
  inside the caller's :class:`~backoffice.portal.access.Scope`.

Backends, chosen by the catalog's dialect:

* **SQLite (embedded)**: FTS5 table ``documents_fts`` with ``unicode61 remove_diacritics 2``
  ("Muller" finds "Müller"). Besides the text as written (for ``word*`` prefix searches) it
  holds the text cut to light German stems (:func:`german_stem`, applied alike when indexing
  and when querying), so "Rechnungen" and "Rechnung" both become ``rechnung``. Exact stems
  rather than a prefix query on each word, because FTS5 materialises the whole posting list
  of a prefix, which makes every search for a common word slow in a large archive. The client
  is an indexed column too, so a client's search only ranks that client's matches.
* **PostgreSQL (production)**: ``tsvector`` column with a GIN index, configuration
  ``backoffice_de`` (Snowball ``german`` stemmer, ``unaccent`` when available).

On both, ``word*`` searches a prefix of the written word, and all words must occur (AND).

User input never reaches either query language: it is cut into letter/digit runs, and only those
runs are put into a query, quoted. Matches in titles and snippets are marked with private-use
characters (by PostgreSQL's ``ts_headline``, or by :func:`highlight_text` for SQLite) and turned
into ``<mark>`` only after the surrounding text is HTML-escaped.
"""

from __future__ import annotations

import enum
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    column,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from backoffice.db import Catalog
from backoffice.models import (
    Correspondent,
    DocType,
    Document,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    SearchEntry,
    utcnow,
)
from backoffice.portal.access import Scope, public_ids, restrict_documents

MARK_START = "\ue000"
MARK_END = "\ue001"
PG_CONFIG = "backoffice_de"
MAX_TERMS = 12
MAX_BODY_CHARS = {"sqlite": 1_000_000, "postgresql": 200_000}
"""PostgreSQL refuses a tsvector over 1 MB; OCR text beyond this is not searchable anyway."""

_FOLD_FROM = "ÄÖÜäöüÀÁÂÃÅàáâãåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕØòóôõøÙÚÛùúûÝýÿÇçÑñŠšŽž"
_FOLD_TO = "AOUaouAAAAAaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUuuuYyyCcNnSsZz"
_FOLD = str.maketrans(_FOLD_FROM, _FOLD_TO)

_TOKEN_RE = re.compile(r"([^\W_]+)(\*?)")
_NOT_MARKER_RE = re.compile(f"[^{MARK_START}{MARK_END}]+")
_STOPWORD_TEXT = (
    "der die das den dem des ein eine einen einem einer und oder von vom zu zum zur mit für "
    "fur im in am an auf ist sind bei aus als"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


class PaymentState(enum.StrEnum):
    """The status filter of the archive, in the client's terms."""

    TO_PAY = "to_pay"
    """An open payable (Zu zahlen)."""
    PAID = "paid"
    """The payable was settled (Bezahlt)."""
    ATTENTION = "attention"
    """Something to act on: an open reminder, reply or review, or an overdue payable."""


@dataclass(frozen=True)
class SearchFilters:
    """Filters of the archive list; all optional, combined with AND and with the text."""

    doc_type: DocType | None = None
    sender: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    status: PaymentState | None = None
    client_id: int | None = None
    """Narrow to one client (the scope still applies on top)."""
    needs_review: bool | None = None


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    public_id: str
    client_id: int | None
    title: Markup
    """Title, HTML-safe, with matched words in ``<mark>``."""
    snippet: Markup
    """A passage of the text around the matches, HTML-safe, matches in ``<mark>``."""
    rank: float
    """Higher is better; 0 for lists without a search text."""
    doc_type: DocType
    doc_date: date | None
    sender: str | None
    amount: Decimal | None
    status: str


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    limit: int
    offset: int
    query: str
    terms: list[str] = field(default_factory=list)
    """The words actually searched for (after dropping stop words and punctuation)."""


@dataclass(frozen=True)
class Term:
    word: str
    """Lower-cased word as typed."""
    stem: str
    """The light stem searched for (SQLite); PostgreSQL stems ``word`` itself."""
    prefix: bool
    """Typed as ``word*``: a prefix of the written word instead of the stem."""


# --- text helpers --------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def fold(value: str) -> str:
    """Lower case without diacritics (ß stays): the key of the sender filter."""
    folded = value.translate(_FOLD).lower()
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)
def german_stem(word: str) -> str:
    """A light German stem: inflection endings cut off, never shorter than four letters.

    Only plural and case endings are removed (``-e``, ``-n``, ``-s``, ``-em``, ``-er``), the
    way the CISTEM stemmer's final step does. Light on purpose: over-stemming would merge
    unrelated words, and the same function runs on the index and the query, so it only has to
    map the inflected forms of one word to one string. Umlauts are left to the index's
    diacritic folding.
    """
    stem = word.lower()
    if any(ch.isdigit() for ch in stem):
        return stem
    while True:
        if len(stem) > 5 and stem[-2:] in ("em", "er") and len(stem) - 2 >= 4:
            stem = stem[:-2]
            continue
        if stem[-1:] in ("e", "s", "n") and len(stem) - 1 >= 4:
            stem = stem[:-1]
            continue
        return stem


def parse_query(query: str) -> list[Term]:
    """The searchable words of a user's query (letters and digits only; ``*`` = prefix)."""
    terms: list[Term] = []
    seen: set[tuple[str, bool]] = set()
    for match in _TOKEN_RE.finditer(query or ""):
        word = match.group(1).lower()[:64]
        explicit_prefix = bool(match.group(2))
        has_digit = any(ch.isdigit() for ch in word)
        if (len(word) < 2 and not has_digit) or (word in _STOPWORDS and not explicit_prefix):
            continue
        term = Term(word, word if explicit_prefix else german_stem(word), explicit_prefix)
        if (term.stem, term.prefix) in seen:
            continue
        seen.add((term.stem, term.prefix))
        terms.append(term)
        if len(terms) >= MAX_TERMS:
            break
    return terms


def fts5_query(terms: Sequence[Term], client_ids: Sequence[int] | None = None) -> str:
    """An FTS5 MATCH expression: every term a quoted string, AND-ed.

    Stems are matched exactly in the stem columns, ``word*`` as a prefix in the written text.
    With ``client_ids`` the match is also narrowed to those clients inside FTS5 (an
    optimisation only: the scope is enforced on the catalog row all the same).
    """
    parts = []
    for term in terms:
        if term.prefix:
            parts.append('{title sender body} : "' + term.word.replace('"', '""') + '"*')
        else:
            parts.append('{stems_title stems_body} : "' + term.stem.replace('"', '""') + '"')
    if client_ids:
        clients = " OR ".join(f'"{int(c)}"' for c in sorted(set(client_ids)))
        parts.insert(0, f"client_id : ({clients})")
    return " AND ".join(parts)


def tsquery_text(terms: Sequence[Term], *, folded: bool) -> str:
    """A ``to_tsquery`` argument: quoted words, ``:*`` for prefixes, AND-ed.

    PostgreSQL stems the words itself (Snowball), so the word as typed is passed, not our stem.
    """
    parts = []
    for term in terms:
        word = fold(term.word) if folded else term.word
        word = word.replace("'", "").replace("\\", "")
        parts.append(f"'{word}'" + (":*" if term.prefix else ""))
    return " & ".join(parts)


def marked_html(raw: str | None) -> Markup:
    """Escape ``raw`` and turn the database's match markers into ``<mark>`` elements."""
    if not raw:
        return Markup("")
    escaped = html.escape(raw, quote=True)
    markers = _NOT_MARKER_RE.sub("", escaped)
    if markers == (MARK_START + MARK_END) * (len(markers) // 2):
        # The usual case, marked by us or by the database: pairs in order.
        return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))
    # Stray marker characters (in the document itself): only balanced, unnested <mark>s.
    opened = 0
    out: list[str] = []
    for ch in escaped:
        if ch == MARK_START:
            if not opened:
                out.append("<mark>")
            opened += 1
        elif ch == MARK_END:
            if opened:
                opened -= 1
                if not opened:
                    out.append("</mark>")
        else:
            out.append(ch)
    if opened:
        out.append("</mark>")
    return Markup("".join(out))


_WORD_RE = re.compile(r"[^\W_]+")


def stems_of(value: str) -> str:
    """The text as a sequence of light stems (what the SQLite stem columns hold)."""
    return " ".join(german_stem(w) for w in _WORD_RE.findall(value))


def _clean(value: str | None) -> str:
    if not value:
        return ""
    return value.replace(MARK_START, "").replace(MARK_END, "").replace("\f", "\n")


def _amount(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and abs(amount) < Decimal("1e12") else None


# --- indexing ------------------------------------------------------------------------------------

_FTS = table(
    "documents_fts",
    column("rowid", Integer),
    column("document_id", Integer),
    column("client_id"),
    column("title"),
    column("sender"),
    column("body"),
    column("stems_title"),
    column("stems_body"),
)

_pg_unaccent: dict[str, bool] = {}


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _pg_has_unaccent(session: Session) -> bool:
    """Whether ``backoffice_de`` unaccents by itself (else we fold in Python)."""
    url = str(session.get_bind().engine.url)
    if url not in _pg_unaccent:
        found = session.scalar(
            text(
                "SELECT count(*) FROM pg_ts_config_map m "
                "JOIN pg_ts_config c ON c.oid = m.mapcfg "
                "JOIN pg_ts_dict d ON d.oid = m.mapdict "
                "WHERE c.cfgname = :cfg AND d.dictname = 'unaccent'"
            ),
            {"cfg": PG_CONFIG},
        )
        _pg_unaccent[url] = bool(found)
    return _pg_unaccent[url]


@dataclass(frozen=True)
class _Entry:
    document_id: int
    client_id: int | None
    title: str
    sender: str | None
    amount: Decimal | None
    body: str


def _entry(doc: Document, payable_amount: Decimal | None, max_body: int) -> _Entry:
    sender = doc.correspondent.name if doc.correspondent else None
    sender = sender or doc.field("seller_name") or doc.field("sender_name")
    amount = (
        _amount(doc.field("gross_total"))
        or _amount(doc.field("amount_outstanding"))
        or payable_amount
    )
    return _Entry(
        document_id=doc.id,
        client_id=doc.client_id,
        title=_clean(doc.title),
        sender=_clean(sender)[:200] or None,
        amount=amount,
        body=_clean(doc.text)[:max_body],
    )


def index_document(session: Session, document: Document | int) -> None:
    """(Re-)index one document; safe to call any number of times.

    Call it after a document was filed and after every correction of its class, client, fields
    or text. It also gives the document its public id.
    """
    doc_id = document if isinstance(document, int) else document.id
    index_documents(session, [doc_id])


def index_documents(session: Session, document_ids: Iterable[int], *, chunk: int = 500) -> int:
    """(Re-)index many documents in batches; returns how many were indexed."""
    ids = sorted(set(document_ids))
    dialect = _dialect(session)
    count = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        session.flush()
        docs = list(
            session.scalars(
                select(Document)
                .where(Document.id.in_(part))
                .options(selectinload(Document.fields), selectinload(Document.correspondent))
            )
        )
        payables = dict(
            session.execute(
                select(FollowUp.document_id, FollowUp.amount).where(
                    FollowUp.document_id.in_(part), FollowUp.kind == FollowUpKind.PAYABLE
                )
            )
            .tuples()
            .all()
        )
        entries = [
            _entry(d, payables.get(d.id), MAX_BODY_CHARS.get(dialect, 1_000_000)) for d in docs
        ]
        if not entries:
            continue
        public_ids(session, [e.document_id for e in entries])
        _write_entries(session, dialect, entries)
        count += len(entries)
    return count


def _write_entries(session: Session, dialect: str, entries: list[_Entry]) -> None:
    now = utcnow()
    rows = [
        {
            "document_id": e.document_id,
            "client_id": e.client_id,
            "sender": e.sender,
            "sender_key": fold(e.sender)[:200] if e.sender else None,
            "amount": e.amount,
            "indexed_at": now,
        }
        for e in entries
    ]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(SearchEntry.__table__)  # type: ignore[arg-type]
    stmt = stmt.on_conflict_do_update(
        index_elements=["document_id"],
        set_={
            name: stmt.excluded[name]
            for name in ("client_id", "sender", "sender_key", "amount", "indexed_at")
        },
    )
    session.execute(stmt, rows)
    if dialect == "postgresql":
        folded = not _pg_has_unaccent(session)
        session.execute(
            text(
                "UPDATE search_entries SET tsv = "
                "setweight(to_tsvector(CAST(:cfg AS regconfig), :title), 'A') || "
                "setweight(to_tsvector(CAST(:cfg AS regconfig), :sender), 'B') || "
                "setweight(to_tsvector(CAST(:cfg AS regconfig), :body), 'D') "
                "WHERE document_id = :id"
            ),
            [
                {
                    "cfg": PG_CONFIG,
                    "id": e.document_id,
                    "title": fold(e.title) if folded else e.title,
                    "sender": (fold(e.sender) if folded else e.sender) if e.sender else "",
                    "body": e.body.translate(_FOLD) if folded else e.body,
                }
                for e in entries
            ],
        )
        return
    session.execute(delete(_FTS).where(_FTS.c.rowid.in_([e.document_id for e in entries])))
    session.execute(
        _FTS.insert(),
        [
            {
                "rowid": e.document_id,
                "document_id": e.document_id,
                "client_id": str(e.client_id) if e.client_id is not None else "",
                "title": e.title,
                "sender": e.sender or "",
                "body": e.body,
                "stems_title": stems_of(f"{e.title} {e.sender or ''}"),
                "stems_body": stems_of(e.body),
            }
            for e in entries
        ],
    )


def remove_document(session: Session, document_id: int) -> None:
    """Drop a document from the index (e.g. before it is deleted after its retention)."""
    if _dialect(session) != "postgresql":
        session.execute(delete(_FTS).where(_FTS.c.rowid == document_id))
    session.execute(delete(SearchEntry).where(SearchEntry.document_id == document_id))


def stale_documents(session: Session, limit: int | None = None) -> list[int]:
    """Documents with text or a title whose index entry is missing or older than the document."""
    stmt = (
        select(Document.id)
        .outerjoin(SearchEntry, SearchEntry.document_id == Document.id)
        .where(
            or_(Document.text.is_not(None), Document.title.is_not(None)),
            or_(SearchEntry.document_id.is_(None), SearchEntry.indexed_at < Document.updated_at),
        )
        .order_by(Document.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def reindex_stale(catalog: Catalog, batch: int = 1000) -> int:
    """Index every document whose entry is missing or older than the document; returns how many.

    The safety net behind the :func:`index_document` calls: the portal runs it when it starts,
    and a flow can run it after a batch. Each batch is its own short transaction.
    """
    done = 0
    while True:
        with catalog.session() as session:
            ids = stale_documents(session, limit=batch)
            if not ids:
                return done
            done += index_documents(session, ids)


# --- searching -----------------------------------------------------------------------------------


def _fts_match(terms: Sequence[Term], client_ids: Sequence[int] | None = None) -> Any:
    expression = fts5_query(terms, client_ids)
    return literal_column("documents_fts").op("MATCH")(bindparam("fts", expression))


def _narrowing(scope: Scope, filters: SearchFilters) -> list[int] | None:
    """The clients a search can be narrowed to inside the text index (None: all)."""
    if filters.client_id is not None:
        return [filters.client_id]
    if scope.all_clients or not scope.client_ids:
        return None
    return sorted(scope.client_ids)


def _apply_filters(stmt: Select[Any], filters: SearchFilters, today: date) -> Select[Any]:
    if filters.doc_type is not None:
        stmt = stmt.where(Document.doc_type == filters.doc_type)
    if filters.client_id is not None:
        stmt = stmt.where(Document.client_id == filters.client_id)
    if filters.date_from is not None:
        stmt = stmt.where(Document.doc_date >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(Document.doc_date <= filters.date_to)
    if filters.sender:
        key = fold(filters.sender.strip())[:200]
        if key:
            stmt = stmt.where(SearchEntry.sender_key.contains(key, autoescape=True))
    if filters.amount_min is not None:
        stmt = stmt.where(SearchEntry.amount >= filters.amount_min)
    if filters.amount_max is not None:
        stmt = stmt.where(SearchEntry.amount <= filters.amount_max)
    if filters.needs_review is not None:
        stmt = stmt.where(Document.needs_review.is_(filters.needs_review))
    if filters.status is not None:
        stmt = stmt.where(_status_condition(filters.status, today))
    return stmt


def _status_condition(state: PaymentState, today: date) -> Any:
    def followup(*conditions: Any) -> Any:
        return exists(select(FollowUp.id).where(FollowUp.document_id == Document.id, *conditions))

    if state == PaymentState.TO_PAY:
        return followup(
            FollowUp.kind == FollowUpKind.PAYABLE, FollowUp.status == FollowUpStatus.OPEN
        )
    if state == PaymentState.PAID:
        return followup(
            FollowUp.kind == FollowUpKind.PAYABLE, FollowUp.status == FollowUpStatus.DONE
        )
    return or_(
        followup(
            FollowUp.kind.in_([FollowUpKind.REMINDER, FollowUpKind.REPLY, FollowUpKind.REVIEW]),
            FollowUp.status == FollowUpStatus.OPEN,
        ),
        followup(
            FollowUp.kind == FollowUpKind.PAYABLE,
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_date < today,
        ),
    )


def search(
    session: Session,
    scope: Scope,
    query: str,
    filters: SearchFilters | None = None,
    limit: int = 20,
    offset: int = 0,
    *,
    today: date | None = None,
) -> SearchPage:
    """The documents in ``scope`` matching ``query`` and ``filters``, best first.

    Without searchable words (empty query, only punctuation or stop words) it lists the
    filtered documents newest first, so the archive list and the search are one code path.
    """
    filters = filters or SearchFilters()
    limit = max(1, min(limit, 200))
    offset = max(0, offset)
    today = today or date.today()
    terms = parse_query(query)
    dialect = _dialect(session)
    rank: Any
    ids_stmt: Select[Any]
    if not terms:
        ids_stmt = select(Document.id).outerjoin(
            SearchEntry, SearchEntry.document_id == Document.id
        )
        rank = literal_column("0.0")
        order = (Document.doc_date.desc().nulls_last(), Document.id.desc())
    elif dialect == "postgresql":
        tsq = func.to_tsquery(
            literal_column(f"'{PG_CONFIG}'::regconfig"),
            bindparam("tsq", tsquery_text(terms, folded=not _pg_has_unaccent(session))),
        )
        tsv: Any = literal_column("search_entries.tsv")
        ids_stmt = (
            select(Document.id)
            .join(SearchEntry, SearchEntry.document_id == Document.id)
            .where(tsv.op("@@")(tsq))
        )
        narrow = _narrowing(scope, filters)
        if narrow is not None:
            # Lets the planner AND the client's index with the text index before ranking.
            ids_stmt = ids_stmt.where(SearchEntry.client_id.in_(narrow))
        rank = func.ts_rank(tsv, tsq)
        order = (rank.desc(), Document.id.desc())
    else:
        # bm25() only works next to its MATCH, so it is computed in a subquery of its own.
        bm25 = func.bm25(literal_column("documents_fts"), 0.0, 0.0, 5.0, 3.0, 1.0, 5.0, 1.0)
        matched = (
            select(_FTS.c.rowid.label("doc_id"), bm25.label("score"))
            .where(_fts_match(terms, _narrowing(scope, filters)))
            .subquery("matched")
        )
        ids_stmt = (
            select(Document.id)
            .join(matched, matched.c.doc_id == Document.id)
            .outerjoin(SearchEntry, SearchEntry.document_id == Document.id)
        )
        rank = -matched.c.score
        order = (matched.c.score.asc(), Document.id.desc())
    ids_stmt = restrict_documents(_apply_filters(ids_stmt, filters, today), scope)
    # The total comes with the page (a window count): one pass over the matches, not two.
    page = (
        ids_stmt.add_columns(rank.label("rank"), func.count().over().label("total"))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(page).all()
    if rows:
        total = int(rows[0][2])
    else:
        total = session.scalar(select(func.count()).select_from(ids_stmt.subquery())) or 0
    ranks = {row[0]: float(row[1] or 0.0) for row in rows}
    ids = [row[0] for row in rows]
    hits = _hydrate(session, dialect, ids, ranks, terms)
    return SearchPage(hits, total, limit, offset, query, [t.word for t in terms])


def _hydrate(
    session: Session,
    dialect: str,
    ids: list[int],
    ranks: dict[int, float],
    terms: list[Term],
) -> list[SearchHit]:
    if not ids:
        return []
    docs = {
        d.id: d
        for d in session.scalars(
            select(Document)
            .where(Document.id.in_(ids))
            .options(selectinload(Document.correspondent))
        )
    }
    entries = {
        e.document_id: e
        for e in session.scalars(select(SearchEntry).where(SearchEntry.document_id.in_(ids)))
    }
    handles = public_ids(session, ids)
    marks = _highlights(session, dialect, docs, terms) if terms else {}
    hits = []
    for doc_id in ids:
        doc = docs[doc_id]
        entry = entries.get(doc_id)
        title_raw, snippet_raw = marks.get(doc_id, (None, None))
        sender = entry.sender if entry else None
        if sender is None and doc.correspondent is not None:
            sender = doc.correspondent.name
        hits.append(
            SearchHit(
                document_id=doc_id,
                public_id=handles[doc_id],
                client_id=doc.client_id,
                title=marked_html(title_raw or doc.title or "Dokument"),
                snippet=marked_html(snippet_raw) if snippet_raw else _lead(doc.text),
                rank=ranks.get(doc_id, 0.0),
                doc_type=doc.doc_type,
                doc_date=doc.doc_date,
                sender=sender,
                amount=entry.amount if entry else None,
                status=doc.status.value,
            )
        )
    return hits


def _lead(body: str | None, words: int = 30) -> Markup:
    parts = _clean(body).split()
    if not parts:
        return Markup("")
    lead = " ".join(parts[:words]) + (" …" if len(parts) > words else "")
    return marked_html(lead)


def _highlights(
    session: Session, dialect: str, docs: dict[int, Document], terms: list[Term]
) -> dict[int, tuple[str | None, str | None]]:
    """Title and text passage with match markers, for the hits of one page only."""
    if dialect == "postgresql" and _pg_has_unaccent(session):
        # PostgreSQL marks exactly what its stemmer matched. Without unaccent it would have to
        # mark a folded copy (wrong spelling shown), so that case is marked here like SQLite.
        rows = session.execute(
            text(
                "SELECT d.id, "
                "ts_headline(CAST(:cfg AS regconfig), d.title, q, :title_opts), "
                "ts_headline(CAST(:cfg AS regconfig), left(d.text, 20000), q, :body_opts) "
                "FROM documents d, to_tsquery(CAST(:cfg AS regconfig), :tsq) AS q "
                "WHERE d.id = ANY(:ids)"
            ),
            {
                "cfg": PG_CONFIG,
                "tsq": tsquery_text(terms, folded=False),
                "ids": list(docs),
                "title_opts": f'StartSel="{MARK_START}", StopSel="{MARK_END}", HighlightAll=true',
                "body_opts": (
                    f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=30, MinWords=12, '
                    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
                ),
            },
        ).all()
        return {row[0]: (row[1], row[2]) for row in rows}
    return {
        doc_id: (highlight_text(doc.title or "", terms), snippet_text(doc.text or "", terms))
        for doc_id, doc in docs.items()
    }


def _matcher(terms: Sequence[Term]) -> Callable[[str], bool]:
    stems = {fold(t.stem) for t in terms if not t.prefix}
    prefixes = [fold(t.word) for t in terms if t.prefix]

    def matches(word: str) -> bool:
        lowered = word.lower()
        if fold(german_stem(lowered)) in stems:
            return True
        folded = fold(lowered)
        return any(folded.startswith(p) for p in prefixes)

    return matches


def highlight_text(value: str, terms: Sequence[Term]) -> str:
    """``value`` with every word that matches a term between match markers."""
    value = value.replace(MARK_START, "").replace(MARK_END, "")
    matches = _matcher(terms)
    out: list[str] = []
    last = 0
    for m in _WORD_RE.finditer(value):
        if matches(m.group()):
            out.append(value[last : m.start()])
            out.append(MARK_START + m.group() + MARK_END)
            last = m.end()
    out.append(value[last:])
    return "".join(out)


def snippet_text(
    value: str, terms: Sequence[Term], words: int = 24, max_chars: int = 200_000
) -> str | None:
    """About ``words`` words around the first match, marked; ``None`` without a match."""
    text_part = _clean(value)[:max_chars]
    matches = _matcher(terms)
    tokens = list(_WORD_RE.finditer(text_part))
    first = next((i for i, m in enumerate(tokens) if matches(m.group())), None)
    if first is None:
        return None
    start = max(0, first - words // 3)
    end = min(len(tokens), start + words)
    fragment = text_part[tokens[start].start() : tokens[end - 1].end()]
    fragment = " ".join(highlight_text(fragment, terms).split())
    return ("… " if start > 0 else "") + fragment + (" …" if end < len(tokens) else "")


def known_senders(session: Session, scope: Scope, limit: int = 200) -> list[str]:
    """Correspondent names in scope, for the sender filter's suggestions."""
    stmt = (
        select(Correspondent.name)
        .join(Document, Document.correspondent_id == Correspondent.id)
        .distinct()
        .order_by(Correspondent.name)
        .limit(limit)
    )
    return list(session.scalars(restrict_documents(stmt, scope)))
