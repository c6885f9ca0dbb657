"""Search on both backends (SQLite FTS5 and PostgreSQL tsvector) through the one interface."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from backoffice.config import Settings
from backoffice.models import DocType, Document, SearchEntry
from backoffice.portal import search as search_module
from backoffice.portal.access import Scope, scope_for
from backoffice.portal.auth import find_user
from backoffice.portal.search import (
    PaymentState,
    SearchFilters,
    fts5_query,
    german_stem,
    highlight_text,
    index_document,
    marked_html,
    parse_query,
    search,
    snippet_text,
    stale_documents,
    tsquery_text,
)
from tests.portal.world import DocSpec, World, add_document, build_world
from tests.services import PostgresServer


def scope_of(world: World, user: str) -> Scope:
    with world.ctx.catalog.session() as s:
        found = find_user(s, world.emails[user])
        assert found is not None
        return scope_for(s, found)


def titles(world: World, user: str, query: str, filters: SearchFilters | None = None) -> set[str]:
    with world.ctx.catalog.session() as s:
        page = search(s, scope_of(world, user), query, filters)
        return {h.title.striptags() for h in page.hits}


def add(world: World, key: str, client: str, title: str, body: str, **kw: object) -> int:
    spec = DocSpec(key, client, DocType.LETTER, title, body, **kw)  # type: ignore[arg-type]
    doc_id = add_document(world.ctx, spec, 100 + len(world.doc_ids), world.clients)
    world.doc_ids[key] = doc_id
    with world.ctx.catalog.session() as s:
        index_document(s, doc_id)
    return doc_id


@pytest.fixture
def search_world(any_settings: Settings) -> World:
    world = build_world(any_settings, with_tokens=False)
    add(world, "only_plural", "ALPHA", "Posteingang März", "Zwei Mahnungen vom Verlag")
    add(world, "only_singular", "ALPHA", "Posteingang April", "Eine Quittung lag bei")
    add(
        world, "html", "ALPHA", "Notiz <b>fett</b>", "<script>alert(1)</script> Quittungen & Belege"
    )
    return world


# --- both backends ----------------------------------------------------------------------------


def test_german_inflection_finds_both_forms(search_world: World) -> None:
    assert "Posteingang März" in titles(search_world, "alice", "Mahnung")
    assert "Posteingang April" in titles(search_world, "alice", "Quittungen")
    found = titles(search_world, "alice", "Rechnungen")
    assert "Rechnung RE-1001 – Müller Bürobedarf GmbH" in found  # text says only "Rechnung"
    assert "Rechnung 77-A – Stadtwerke Nordstadt" in found


def test_diacritics_are_folded(search_world: World) -> None:
    alpha = titles(search_world, "alice", "Muller")
    assert alpha == {
        "Rechnung RE-1001 – Müller Bürobedarf GmbH",
        "Mahnung zu RE-0999 – Müller Bürobedarf GmbH",
    }
    assert titles(search_world, "alice", "Müller") == alpha
    assert titles(search_world, "alice", "BUROBEDARF") == alpha
    # BETA has a "Müller" too, but ALPHA's user never sees it, and vice versa.
    assert titles(search_world, "bob", "Muller") == {"Brief Finanzamt Zebrahausen"}


def test_filters_combine_with_text(search_world: World) -> None:
    def f(**kw: object) -> SearchFilters:
        return SearchFilters(**kw)  # type: ignore[arg-type]

    w = search_world
    assert titles(
        w, "alice", "Rechnung", f(doc_type=DocType.INVOICE, amount_min=Decimal(1000))
    ) == {"Rechnung 77-A – Stadtwerke Nordstadt"}
    assert titles(w, "alice", "Rechnung", f(status=PaymentState.TO_PAY)) == {
        "Rechnung RE-1001 – Müller Bürobedarf GmbH"
    }
    assert titles(w, "alice", "Rechnung", f(status=PaymentState.PAID)) == {
        "Rechnung 77-A – Stadtwerke Nordstadt"
    }
    assert titles(w, "alice", "Müller", f(doc_type=DocType.REMINDER)) == {
        "Mahnung zu RE-0999 – Müller Bürobedarf GmbH"
    }
    assert titles(
        w, "alice", "Rechnung", f(date_from=date(2024, 4, 1), date_to=date(2024, 4, 30))
    ) == {"Rechnung 77-A – Stadtwerke Nordstadt"}
    assert titles(w, "alice", "", f(sender="muller")) == {
        "Rechnung RE-1001 – Müller Bürobedarf GmbH",
        "Mahnung zu RE-0999 – Müller Bürobedarf GmbH",
    }
    assert titles(w, "alice", "Rechnung", f(amount_max=Decimal("100"))) == {
        "Mahnung zu RE-0999 – Müller Bürobedarf GmbH"
    }
    assert titles(w, "bob", "Rechnung", f(status=PaymentState.ATTENTION)) == {
        "Rechnung 4711 – Zebra Stahlhandel"  # overdue payable
    }
    assert titles(w, "staff", "Zebra") == {"Rechnung 4711 – Zebra Stahlhandel"}
    staff = titles(w, "staff", "Zebra*")  # a prefix also finds the compound
    assert staff == {"Rechnung 4711 – Zebra Stahlhandel", "Brief Finanzamt Zebrahausen"}
    assert titles(w, "staff", "Zebra*", f(client_id=w.clients["ALPHA"])) == set()


def test_hits_are_ranked_paged_and_highlighted_safely(search_world: World) -> None:
    with search_world.ctx.catalog.session() as s:
        scope = scope_of(search_world, "alice")
        page = search(s, scope, "Quittung", limit=1)
        assert page.total == 2 and len(page.hits) == 1
        second = search(s, scope, "Quittung", limit=1, offset=1)
        assert {page.hits[0].title.striptags(), second.hits[0].title.striptags()} == {
            "Posteingang April",
            "Notiz <b>fett</b>",
        }
        html_hit = next(h for h in search(s, scope, "Quittungen").hits if "Notiz" in str(h.title))
        assert "<script" not in str(html_hit.snippet)  # PostgreSQL leaves the tag out
        assert "<mark>Quittungen</mark>" in html_hit.snippet
        assert "<b>" not in html_hit.title and "&lt;b&gt;" in html_hit.title
        invoice = search(s, scope, "Muller").hits[0]
        assert "<mark>Müller</mark>" in invoice.title
        assert invoice.rank > 0


INJECTIONS = [
    '"',
    'Rechnung" OR "Zebra',
    "Zebra OR Rechnung",
    "title:Zebra",
    "NEAR(Rechnung Zebra)",
    "*",
    "'; DROP TABLE documents; --",
    "Rechnung AND NOT x",
    "&|!:*()<->",
    "\\",
    "Zebra\x00",
    "body:Zebra*",
    "^Zebra",
    "client_id:2",
    "Rechnung' | 'Zebra",
]


def test_query_syntax_cannot_be_injected(search_world: World) -> None:
    beta = {search_world.public[k] for k in search_world.docs_of("BETA")}
    scope = scope_of(search_world, "alice")
    for query in INJECTIONS:
        with search_world.ctx.catalog.session() as s:
            page = search(s, scope, query)
        assert not beta & {h.public_id for h in page.hits}, query
    with search_world.ctx.catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == len(search_world.doc_ids)


def test_index_document_is_idempotent_and_follows_changes(search_world: World) -> None:
    w = search_world
    doc_id = w.doc_ids["a_letter"]
    with w.ctx.catalog.session() as s:
        index_document(s, doc_id)
        index_document(s, doc_id)
        assert s.scalar(select(func.count()).where(SearchEntry.document_id == doc_id)) == 1
        if s.get_bind().dialect.name == "sqlite":
            rows = s.scalar(
                text("SELECT count(*) FROM documents_fts WHERE rowid = :i"), {"i": doc_id}
            )
            assert rows == 1
        assert stale_documents(s) == []
        s.get_one(Document, doc_id).title = "Brief Kündigung Lagerhalle"
    with w.ctx.catalog.session() as s:
        assert stale_documents(s) == [doc_id]
        index_document(s, doc_id)
    assert titles(w, "alice", "Lagerhallen") == {"Brief Kündigung Lagerhalle"}
    assert titles(w, "alice", "Gewerbeeinheit") == {"Brief Kündigung Lagerhalle"}  # text kept


# --- the query language, without a database --------------------------------------------------


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("Rechnungen", "rechnung"),
        ("Rechnung", "rechnung"),
        ("Rechnungs", "rechnung"),
        ("Müller", "müll"),
        ("Mahnungen", "mahnung"),
        ("Briefe", "brief"),
        ("Haus", "haus"),
        ("Akte", "akte"),
        ("Gebühren", "gebühr"),
        ("2024", "2024"),
    ],
)
def test_german_stem(word: str, stem: str) -> None:
    assert german_stem(word) == stem
    assert word.lower().startswith(stem)


def test_parse_query_keeps_only_words() -> None:
    terms = parse_query('Die "Rechnungen" OR title:Müller* RE-1001 x')
    assert [(t.word, t.stem, t.prefix) for t in terms] == [
        ("rechnungen", "rechnung", False),
        ("or", "or", False),
        ("title", "titl", False),
        ("müller", "müller", True),
        ("re", "re", False),
        ("1001", "1001", False),
    ]
    stems = "{stems_title stems_body} : "
    assert fts5_query(terms) == (
        f'{stems}"rechnung" AND {stems}"or" AND {stems}"titl" AND '
        f'{{title sender body}} : "müller"* AND {stems}"re" AND {stems}"1001"'
    )
    assert fts5_query(terms[:1], [3, 1]) == f'client_id : ("1" OR "3") AND {stems}"rechnung"'
    assert tsquery_text(terms, folded=True) == (
        "'rechnungen' & 'or' & 'title' & 'muller':* & 're' & '1001'"
    )
    assert parse_query("") == [] and parse_query("der die das") == []


def test_highlighting_marks_inflected_and_prefixed_words() -> None:
    terms = parse_query("Rechnungen Mull*")
    assert highlight_text("Rechnung von Müller, Rechnungsnummer", terms) == (
        "\ue000Rechnung\ue001 von \ue000Müller\ue001, Rechnungsnummer"
    )
    long_text = " ".join(["Wort"] * 50 + ["Rechnungen"] + ["Ende"] * 50)
    snippet = snippet_text(long_text, terms)
    assert snippet is not None
    assert snippet.startswith("… Wort") and snippet.endswith("Ende …")
    assert "\ue000Rechnungen\ue001" in snippet and len(snippet.split()) <= 26
    assert snippet_text("nichts davon", terms) is None


def test_marked_html_escapes_everything_but_marks() -> None:
    raw = "a <i>\ue000b&c\ue001 \ue001 \ue000d"
    assert str(marked_html(raw)) == "a &lt;i&gt;<mark>b&amp;c</mark>  <mark>d</mark>"


@pytest.mark.services
def test_postgres_without_unaccent_folds_in_python(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Where ``unaccent`` cannot be installed the configuration lacks it; search still folds."""
    url = postgres.create_database(f"nounaccent_{os.getpid()}")
    settings = Settings(var_dir=tmp_path / "var", catalog_url=url, archive_url=str(tmp_path / "a"))
    world = build_world(settings, with_tokens=False)
    with world.ctx.catalog.session() as s:
        s.execute(
            text(
                "ALTER TEXT SEARCH CONFIGURATION backoffice_de "
                "ALTER MAPPING FOR hword, hword_part, word WITH german_stem"
            )
        )
    search_module._pg_unaccent.clear()
    try:
        with world.ctx.catalog.session() as s:
            for doc_id in world.doc_ids.values():
                index_document(s, doc_id)
        expected = {
            "Rechnung RE-1001 – Müller Bürobedarf GmbH",
            "Mahnung zu RE-0999 – Müller Bürobedarf GmbH",
        }
        assert titles(world, "alice", "Muller") == expected
        assert titles(world, "alice", "Müller") == expected
        with world.ctx.catalog.session() as s:
            hit = search(s, scope_of(world, "alice"), "Rechnungen").hits[0]
        assert "<mark>" in hit.snippet
    finally:
        search_module._pg_unaccent.clear()
        world.ctx.catalog.dispose()
