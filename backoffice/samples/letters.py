"""What letters and the "other" papers say: correspondence, contracts, Finanzamt, bank, adverts.

Letters are the documents a classifier most easily confuses with reminders (a lawyer demanding
payment) or invoices (a landlord announcing new advance payments), so the scenarios here
deliberately include such near misses. Each scenario yields the Betreff, the body paragraphs,
an optional deadline and a one-line ``summary`` of what the recipient is asked to do, which
becomes the ground truth a follow-up queue would be evaluated against.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from backoffice.samples import formatting as fmt
from backoffice.samples.compose import (
    Composed,
    Ctx,
    base_draft,
    closing,
    invoice_number,
    make_lines,
    salutation,
    signer,
)
from backoffice.samples.content import FANTASY, SURNAMES, Sender, iban_for, person
from backoffice.samples.render import (
    MM,
    Block,
    Column,
    Para,
    Signature,
    SignatureFields,
    Spacer,
    Table,
    Title,
    Totals,
)


@dataclass
class Scenario:
    subject: str
    paragraphs: list[str]
    summary: str
    deadline: dt.date | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    formal: bool = False


def _later(ctx: Ctx, low: int, high: int) -> dt.date:
    day = ctx.date + dt.timedelta(days=ctx.rng.randint(low, high))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _first_of_next_month(day: dt.date, months: int = 1) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _trade(ctx: Ctx) -> str:
    return ctx.profile.trade


def _chamber(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    year = ctx.date.year
    deadline = _later(ctx, 14, 28)
    if "Architektenkammer" in ctx.sender.name:
        choice = rng.choice(("fortbildung", "event"))
    else:
        choice = rng.choice(("beitrag", "event", "ausbildung"))
    if choice == "beitrag":
        return Scenario(
            f"Beitragsveranlagung {year}: Angaben zum Gewerbeertrag",
            [
                f"für die Festsetzung des Kammerbeitrags {year} benötigen wir Angaben zu Ihrem "
                f"Gewerbeertrag des Jahres {year - 2}. Leider liegen uns diese Daten vom "
                "Finanzamt noch nicht vor.",
                "Bitte senden Sie uns den beiliegenden Erhebungsbogen ausgefüllt bis zum "
                f"{fmt.long_date(deadline)} zurück. Liegen uns bis dahin keine Angaben vor, "
                "müssen wir den Beitrag schätzen.",
            ],
            f"Erhebungsbogen zum Gewerbeertrag {year - 2} bis {deadline:%d.%m.%Y} zurücksenden",
            deadline,
        )
    if choice == "ausbildung":
        _, first, sur = person(rng)
        return Scenario(
            f"Ausbildungsverhältnis {first} {sur}: fehlende Unterlagen",
            [
                f"zum Ausbildungsvertrag von {first} {sur} fehlen uns noch die unterschriebenen "
                "Ausbildungsnachweise des letzten Halbjahres sowie die ärztliche Bescheinigung "
                "nach dem Jugendarbeitsschutzgesetz.",
                f"Bitte reichen Sie die Unterlagen bis spätestens {fmt.long_date(deadline)} nach, "
                "damit die Anmeldung zur Zwischenprüfung erfolgen kann.",
            ],
            f"Ausbildungsnachweise und ärztliche Bescheinigung für {first} {sur} bis "
            f"{deadline:%d.%m.%Y} nachreichen",
            deadline,
        )
    if choice == "fortbildung":
        return Scenario(
            f"Nachweis der Fortbildungspflicht {year - 1}",
            [
                "nach unserer Fortbildungsordnung sind Mitglieder verpflichtet, für das Jahr "
                f"{year - 1} mindestens 16 Fortbildungsstunden nachzuweisen. Für Ihr Büro liegen "
                "uns bislang keine Nachweise vor.",
                f"Wir bitten Sie, die Teilnahmebescheinigungen bis zum {fmt.long_date(deadline)} "
                "über das Mitgliederportal hochzuladen oder uns per Post zu senden.",
            ],
            f"Fortbildungsnachweise {year - 1} bis {deadline:%d.%m.%Y} einreichen",
            deadline,
        )
    event = _later(ctx, 20, 45)
    topic = rng.choice(
        (
            "Fachkräftesicherung im Betrieb",
            "E-Rechnung: Pflichten ab 2027",
            "Energieeffizienz und Förderprogramme",
            "Digitale Betriebsführung",
        )
    )
    rsvp = event - dt.timedelta(days=7)
    return Scenario(
        f"Einladung: Informationsveranstaltung „{topic}“ am {fmt.date(event, 'de_num')}",
        [
            f"wir laden Sie herzlich zu unserer Informationsveranstaltung „{topic}“ am "
            f"{fmt.long_date(event)} um {rng.choice(('17:00', '18:00', '18:30'))} Uhr in unser "
            "Bildungszentrum ein.",
            "Die Teilnahme ist für Mitglieder kostenfrei. Bitte melden Sie sich bis zum "
            f"{fmt.date(rsvp, 'de_num')} an.",
        ],
        f"Einladung zur Veranstaltung am {event:%d.%m.%Y}; Anmeldung bis {rsvp:%d.%m.%Y}",
        rsvp,
        {"appointment_date": event.isoformat()},
    )


def _landlord(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    choice = rng.choice(("wartung", "nebenkosten", "index", "ablesung"))
    if choice in {"wartung", "ablesung"}:
        day = _later(ctx, 7, 21)
        start = rng.choice((7, 8, 9, 13))
        what = (
            "die jährliche Wartung der Heizungsanlage und die Überprüfung der Rauchwarnmelder"
            if choice == "wartung"
            else "die Ablesung der Wärme- und Wasserzähler"
        )
        subject = (
            "Ankündigung: Wartung Heizungsanlage und Rauchwarnmelder"
            if choice == "wartung"
            else "Ablesung der Verbrauchszähler"
        )
        return Scenario(
            subject,
            [
                f"am {fmt.long_date(day)} zwischen {start}:00 und {start + 4}:00 Uhr findet "
                f"{what} in Ihren Räumen ({ctx.client.street}) statt.",
                "Bitte ermöglichen Sie dem beauftragten Techniker den Zugang. Ist der Termin für "
                "Sie nicht möglich, teilen Sie uns bitte rechtzeitig einen Ersatztermin mit.",
            ],
            f"Zugang am {day:%d.%m.%Y} zwischen {start} und {start + 4} Uhr ermöglichen "
            f"({subject})",
            None,
            {"appointment_date": day.isoformat()},
        )
    effective = _first_of_next_month(ctx.date, rng.choice((1, 2)))
    if choice == "nebenkosten":
        amount = Decimal(rng.randint(18, 95) * 5)
        return Scenario(
            "Anpassung der Betriebskostenvorauszahlung",
            [
                "aufgrund der gestiegenen Kosten für Heizenergie und Müllabfuhr, die sich aus "
                "der Betriebskostenabrechnung des Vorjahres ergeben, passen wir die monatliche "
                "Vorauszahlung an.",
                f"Ab dem {fmt.long_date(effective)} beträgt die Betriebskostenvorauszahlung "
                f"{fmt.money(amount, 'de_suffix')} monatlich. Bitte ändern Sie Ihren Dauerauftrag "
                "entsprechend.",
            ],
            f"Dauerauftrag ab {effective:%d.%m.%Y} auf {fmt.canonical_amount(amount)} EUR "
            "Vorauszahlung anpassen",
            None,
            {"amount": fmt.canonical_amount(amount), "effective_date": effective.isoformat()},
        )
    rent = Decimal(rng.randint(120, 480) * 10)
    return Scenario(
        "Mietanpassung gemäß Indexvereinbarung",
        [
            "gemäß § 4 des Mietvertrags ist die Miete an den Verbraucherpreisindex gekoppelt. "
            "Der Index ist seit der letzten Anpassung um "
            f"{fmt.number(Decimal(rng.randint(25, 68)) / 10, places=1)} % gestiegen.",
            f"Die Nettokaltmiete erhöht sich daher ab dem {fmt.long_date(effective)} auf "
            f"{fmt.money(rent, 'de_suffix')} monatlich zuzüglich Umsatzsteuer.",
        ],
        f"Neue Miete {fmt.canonical_amount(rent)} EUR netto ab {effective:%d.%m.%Y}; Dauerauftrag "
        "anpassen",
        None,
        {"amount": fmt.canonical_amount(rent), "effective_date": effective.isoformat()},
    )


def _insurance(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    policy = f"{rng.choice(('BH', 'IN', 'GV'))}-{rng.randint(1000000, 9999999)}"
    choice = rng.choice(("schaden", "beitrag", "summe"))
    deadline = _later(ctx, 14, 30)
    if choice == "schaden":
        claim = f"S-{ctx.date.year}-{rng.randint(10000, 99999)}"
        return Scenario(
            f"Schadenmeldung {claim} zu Vertrag {policy}",
            [
                "vielen Dank für Ihre Schadenmeldung vom "
                f"{fmt.date(ctx.date - dt.timedelta(days=rng.randint(3, 12)), 'de_num')}. Um den "
                "Schaden prüfen zu können, benötigen wir noch folgende Unterlagen:",
                "– Fotos der beschädigten Gegenstände\n– einen Kostenvoranschlag oder die "
                "Reparaturrechnung\n– eine kurze Schilderung des Schadenhergangs",
                f"Bitte senden Sie uns die Unterlagen bis zum {fmt.long_date(deadline)} unter "
                "Angabe der Schadennummer zu.",
            ],
            f"Fotos, Kostenvoranschlag und Schadenschilderung zu {claim} bis {deadline:%d.%m.%Y} "
            "einreichen",
            deadline,
            {"reference": claim},
        )
    if choice == "beitrag":
        effective = _first_of_next_month(ctx.date, 2)
        premium = Decimal(rng.randint(380, 2400)) + Decimal(rng.choice(("0.00", "0.50", "0.80")))
        return Scenario(
            f"Beitragsanpassung zum {fmt.date(effective, 'de_num')} – Vertrag {policy}",
            [
                "die Schadenaufwendungen in der Betriebshaftpflichtversicherung sind im "
                "vergangenen Jahr deutlich gestiegen. Gemäß den Versicherungsbedingungen passen "
                "wir deshalb den Beitrag an.",
                f"Ihr neuer Jahresbeitrag ab {fmt.long_date(effective)} beträgt "
                f"{fmt.money(premium, 'de_suffix')} inklusive Versicherungsteuer.",
                "Sie können den Vertrag innerhalb eines Monats nach Zugang dieses Schreibens, "
                f"spätestens zum {fmt.date(effective, 'de_num')}, kündigen.",
            ],
            f"Beitragserhöhung auf {fmt.canonical_amount(premium)} EUR jährlich ab "
            f"{effective:%d.%m.%Y} prüfen (Sonderkündigungsrecht)",
            effective,
            {"amount": fmt.canonical_amount(premium), "reference": policy},
        )
    return Scenario(
        f"Ihr Vertrag {policy}: Überprüfung der Versicherungssumme",
        [
            "damit Ihr Versicherungsschutz weiterhin ausreichend ist, überprüfen wir regelmäßig "
            "die Bemessungsgrundlagen Ihres Vertrags.",
            f"Bitte teilen Sie uns bis zum {fmt.long_date(deadline)} Ihren Jahresumsatz "
            f"{ctx.date.year - 1} und die aktuelle Zahl Ihrer Beschäftigten mit. Ohne Rückmeldung "
            "schreiben wir die bisherigen Werte fort.",
        ],
        f"Jahresumsatz {ctx.date.year - 1} und Beschäftigtenzahl bis {deadline:%d.%m.%Y} melden",
        deadline,
        {"reference": policy},
    )


def _lawyer(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    file_no = f"{rng.randint(10, 999)}/{ctx.date.year % 100:02d}"
    deadline = _later(ctx, 10, 16)
    mandant = f"{rng.choice(FANTASY)} {rng.choice(('Handels GmbH', 'Bau GmbH', 'Service KG'))}"
    choice = rng.choice(("forderung", "maengel", "stellungnahme"))
    if choice == "forderung":
        amount = Decimal(rng.randint(400, 9000)) + Decimal(rng.randint(0, 99)) / 100
        return Scenario(
            f"{mandant} ./. {ctx.client.name} – Az. {file_no}",
            [
                f"wir zeigen an, dass uns die {mandant} mit der Wahrnehmung ihrer rechtlichen "
                "Interessen beauftragt hat. Eine auf uns lautende Vollmacht liegt bei.",
                "Unsere Mandantin hat gegen Sie eine Forderung in Höhe von "
                f"{fmt.money(amount, 'de_suffix')} aus Lieferungen und Leistungen. Wir fordern "
                f"Sie auf, den Betrag bis zum {fmt.long_date(deadline)} auf unser Anderkonto zu "
                "zahlen oder bis dahin Stellung zu nehmen.",
            ],
            f"Forderung der {mandant} über {fmt.canonical_amount(amount)} EUR bis "
            f"{deadline:%d.%m.%Y} zahlen oder Stellung nehmen",
            deadline,
            {"amount": fmt.canonical_amount(amount), "reference": file_no},
            formal=True,
        )
    if choice == "maengel":
        return Scenario(
            f"Mängelrüge Bauvorhaben {rng.choice(('Gartenstraße', 'Am Hang', 'Talstraße'))} "
            f"{rng.randint(2, 40)} – Az. {file_no}",
            [
                f"wir vertreten die {mandant}. Unsere Mandantin rügt folgende Mängel an den von "
                "Ihnen erbrachten Leistungen: Undichtigkeiten an der Anschlussleitung sowie "
                "fehlende Dokumentation.",
                f"Wir fordern Sie auf, die Mängel bis zum {fmt.long_date(deadline)} zu beseitigen "
                "bzw. bis dahin verbindlich einen Termin zur Nachbesserung zu benennen.",
            ],
            f"Mängel beseitigen oder Nachbesserungstermin bis {deadline:%d.%m.%Y} benennen (Az. "
            f"{file_no})",
            deadline,
            {"reference": file_no},
            formal=True,
        )
    return Scenario(
        f"Ihr Mietverhältnis {ctx.client.street} – Az. {file_no}",
        [
            "wir vertreten die Eigentümerin des von Ihnen gemieteten Objekts. Unsere Mandantin "
            "beabsichtigt, im Hof Stellplätze neu zu ordnen; dadurch entfällt einer der Ihnen "
            "zugewiesenen Parkplätze.",
            f"Wir bitten um Ihre Stellungnahme bis zum {fmt.long_date(deadline)}, ob Sie mit "
            "einer entsprechenden Anpassung der Miete einverstanden sind.",
        ],
        f"Stellungnahme zur Neuordnung der Stellplätze bis {deadline:%d.%m.%Y} (Az. {file_no})",
        deadline,
        {"reference": file_no},
        formal=True,
    )


_REQUESTS = {
    "haustechnik": (
        "den Austausch unserer Gasheizung gegen eine Wärmepumpe",
        "die Sanierung von zwei Bädern in unserem Mehrfamilienhaus",
    ),
    "baeckerei": (
        "die tägliche Lieferung von Brötchen und Kuchen für unser Frühstücksbuffet",
        "Gebäck für eine Firmenfeier mit 120 Gästen",
    ),
    "architektur": (
        "die Planung eines Anbaus an unser Bürogebäude",
        "eine Machbarkeitsstudie für die Umnutzung einer Lagerhalle",
    ),
    "allgemein": ("Ihre Leistungen im kommenden Quartal", "eine Zusammenarbeit im nächsten Jahr"),
}


def _customer(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    deadline = _later(ctx, 7, 21)
    choice = rng.choice(("reklamation", "anfrage", "termin"))
    if choice == "reklamation":
        when = ctx.date - dt.timedelta(days=rng.randint(5, 30))
        return Scenario(
            f"Reklamation zu Ihrer Leistung vom {fmt.date(when, 'de_num')}",
            [
                f"leider sind wir mit Ihrer Leistung vom {fmt.long_date(when)} nicht zufrieden. "
                "Die vereinbarte Ausführung entspricht nicht unserer Bestellung, und ein Teil "
                "der Arbeiten ist noch offen.",
                f"Wir bitten Sie, sich bis zum {fmt.long_date(deadline)} mit uns in Verbindung zu "
                "setzen und einen Termin zur Nachbesserung zu vereinbaren. Bis zur Klärung "
                "halten wir die Zahlung zurück.",
            ],
            f"Reklamation klären und Nachbesserungstermin bis {deadline:%d.%m.%Y} vereinbaren",
            deadline,
        )
    if choice == "anfrage":
        what = rng.choice(_REQUESTS.get(_trade(ctx), _REQUESTS["allgemein"]))
        return Scenario(
            "Anfrage: Angebot",
            [
                f"wir interessieren uns für {what} und bitten um ein unverbindliches Angebot.",
                "Gerne können Sie sich für einen Besichtigungstermin bei uns melden. Für eine "
                f"Rückmeldung bis zum {fmt.long_date(deadline)} wären wir Ihnen dankbar.",
            ],
            f"Angebot für {what} bis {deadline:%d.%m.%Y} erstellen",
            deadline,
        )
    day = _later(ctx, 5, 15)
    return Scenario(
        f"Terminbestätigung {fmt.date(day, 'de_num')}",
        [
            f"hiermit bestätigen wir den vereinbarten Termin am {fmt.long_date(day)} um "
            f"{rng.choice(('9:00', '10:30', '14:00'))} Uhr bei uns vor Ort.",
            "Bitte bringen Sie die besprochenen Unterlagen und Muster mit. Sollte der Termin "
            "nicht passen, geben Sie uns bitte kurz Bescheid.",
        ],
        f"Termin am {day:%d.%m.%Y} wahrnehmen",
        None,
        {"appointment_date": day.isoformat()},
    )


def _supplier(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    effective = _first_of_next_month(ctx.date, rng.choice((1, 2)))
    choice = rng.choice(("preis", "bank", "verzug", "agb", "preis"))
    if choice == "preis":
        pct = Decimal(rng.randint(25, 85)) / 10
        return Scenario(
            f"Preisanpassung zum {fmt.date(effective, 'de_num')}",
            [
                "die anhaltend hohen Kosten für Rohstoffe, Energie und Logistik können wir "
                "leider nicht länger vollständig auffangen.",
                f"Wir passen unsere Preise daher zum {fmt.long_date(effective)} um "
                f"durchschnittlich {fmt.number(pct, places=1)} % an. Bestellungen, die bis zum "
                "Vortag eingehen, berechnen wir noch zu den bisherigen Konditionen.",
            ],
            f"Preiserhöhung um {fmt.canonical_number(pct)} % ab {effective:%d.%m.%Y} zur Kenntnis "
            "nehmen",
            None,
            {"effective_date": effective.isoformat()},
        )
    if choice == "bank":
        new_iban = iban_for(
            "DE",
            rng.choice(("60040071", "10070000", "43060967")),
            str(rng.randint(10**8, 10**10 - 1)),
        )
        return Scenario(
            "Änderung unserer Bankverbindung",
            [
                "bitte beachten Sie, dass sich unsere Bankverbindung ab dem "
                f"{fmt.long_date(effective)} ändert. Unsere neue IBAN lautet "
                f"{fmt.iban_groups(new_iban)}.",
                "Bitte passen Sie Ihre Stammdaten an. Zahlungen auf das bisherige Konto werden "
                "noch bis Ende des Quartals weitergeleitet. Bei Rückfragen erreichen Sie uns "
                "unter der bekannten Rufnummer.",
            ],
            f"Neue Bankverbindung ab {effective:%d.%m.%Y} (IBAN {new_iban}) vor Änderung "
            "telefonisch prüfen",
            None,
            {"new_iban": new_iban, "effective_date": effective.isoformat()},
        )
    if choice == "verzug":
        order = f"{rng.randint(100000, 999999)}"
        day = _later(ctx, 10, 25)
        return Scenario(
            f"Lieferverzögerung Ihrer Bestellung {order}",
            [
                f"leider verzögert sich die Lieferung Ihrer Bestellung {order}, weil unser "
                "Vorlieferant Produktionsengpässe hat.",
                f"Nach heutigem Stand können wir am {fmt.long_date(day)} liefern. Wenn Sie mit "
                "dem neuen Termin nicht einverstanden sind, können Sie die betroffenen "
                "Positionen kostenfrei stornieren.",
            ],
            f"Neuen Liefertermin {day:%d.%m.%Y} für Bestellung {order} bestätigen oder stornieren",
            None,
            {"reference": order, "appointment_date": day.isoformat()},
        )
    deadline = effective - dt.timedelta(days=1)
    return Scenario(
        "Änderung unserer Allgemeinen Geschäftsbedingungen",
        [
            f"zum {fmt.long_date(effective)} ändern wir unsere Allgemeinen Geschäftsbedingungen. "
            "Die wichtigsten Änderungen betreffen die Lieferfristen und die Haftung bei "
            "Transportschäden.",
            f"Die neuen AGB finden Sie unter {ctx.sender.web or 'unserer Internetseite'}. "
            f"Widersprechen Sie nicht bis zum {fmt.date(deadline, 'de_num')}, gelten die neuen "
            "Bedingungen als angenommen.",
        ],
        f"Neue AGB ab {effective:%d.%m.%Y} prüfen; Widerspruch bis {deadline:%d.%m.%Y}",
        deadline,
    )


def _tax_advisor(ctx: Ctx) -> Scenario:
    rng = ctx.rng
    deadline = _later(ctx, 10, 25)
    if rng.random() < 0.5:
        year = ctx.date.year - 1
        return Scenario(
            f"Jahresabschluss {year}: Anforderung von Unterlagen",
            [
                f"für die Erstellung Ihres Jahresabschlusses {year} benötigen wir noch folgende "
                "Unterlagen:",
                "– Kontoauszüge Dezember\n– Inventurliste zum 31.12.\n– Aufstellung der offenen "
                "Forderungen und Verbindlichkeiten\n– Belege zu Anschaffungen über 800 Euro",
                f"Bitte reichen Sie uns diese bis zum {fmt.long_date(deadline)} ein.",
            ],
            f"Unterlagen für den Jahresabschluss {year} bis {deadline:%d.%m.%Y} einreichen",
            deadline,
        )
    month = fmt.GERMAN_MONTHS[(ctx.date.month - 2) % 12]
    return Scenario(
        f"Umsatzsteuer-Voranmeldung {month}: fehlende Belege",
        [
            f"bei der Buchhaltung für {month} sind uns einige Zahlungen ohne Beleg aufgefallen. "
            "Eine Liste der betroffenen Buchungen liegt diesem Schreiben bei.",
            "Damit wir die Voranmeldung fristgerecht abgeben können, benötigen wir die Belege "
            f"bis zum {fmt.long_date(deadline)}.",
        ],
        f"Fehlende Belege für {month} bis {deadline:%d.%m.%Y} nachreichen",
        deadline,
    )


SCENARIOS = {
    "chamber": _chamber,
    "landlord": _landlord,
    "insurance": _insurance,
    "lawyer": _lawyer,
    "customer": _customer,
    "supplier": _supplier,
    "tax_advisor": _tax_advisor,
}


def _letter_info(ctx: Ctx, *, reference: str | None = None) -> list[tuple[str, str]]:
    rng = ctx.rng
    info: list[tuple[str, str]] = []
    if reference:
        info.append(("Unser Zeichen", reference))
    elif rng.random() < 0.5:
        info.append(
            (
                "Unser Zeichen",
                f"{rng.choice('ABDFKMRSW')}{rng.choice('abehkmrsw')}-{rng.randint(10, 99)}",
            )
        )
    if ctx.customer_number is not None and rng.random() < 0.5:
        info.append(("Kundennummer", ctx.customer_number))
    if rng.random() < 0.4:
        info.append(("Telefon", ctx.sender.phone))
    info.append(("Datum", fmt.date(ctx.date, ctx.sender.style.date_style)))
    return info


def compose_letter(ctx: Ctx, kind: str) -> Composed:
    """A letter from a sender of ``kind`` (see :data:`SCENARIOS`)."""
    scenario = SCENARIOS[kind](ctx)
    rng = ctx.rng
    reference = scenario.extra.get("reference") if kind == "lawyer" else None
    blocks: list[Block] = [
        Title(scenario.subject)
        if rng.random() < 0.5
        else Para(scenario.subject, bold=True, keep_with_next=True),
        Spacer(2 * MM),
        Para(salutation(ctx), space_after=5),
    ]
    for paragraph in scenario.paragraphs:
        if paragraph.startswith("–"):
            for item in paragraph.split("\n"):
                blocks.append(Para(item, indent=5 * MM, space_after=1))
            blocks.append(Spacer(4))
        else:
            blocks.append(Para(paragraph, space_after=6))
    if rng.random() < 0.5:
        blocks.append(
            Para(
                rng.choice(
                    (
                        "Für Rückfragen stehen wir Ihnen gerne zur Verfügung.",
                        "Vielen Dank für Ihre Unterstützung.",
                        "Bei Fragen erreichen Sie uns montags bis freitags von 8 bis 16 Uhr.",
                    )
                )
            )
        )
    name, role = signer(ctx)
    if kind == "lawyer":
        name, role = (
            f"{ctx.sender.people[0]}",
            "Rechtsanwalt" if rng.random() < 0.5 else "Rechtsanwältin",
        )
    blocks.append(
        Signature(
            closing(ctx, formal=scenario.formal),
            [name, role],
            seed=rng.randint(1, 10**6),
            company=ctx.sender.name if rng.random() < 0.3 else None,
        )
    )
    draft, _, recipient_truth = base_draft(
        ctx,
        title=None,
        info=_letter_info(ctx, reference=reference),
        blocks=blocks,
        running=f"Schreiben vom {fmt.date(ctx.date, 'de_num')}",
        pdf_title=scenario.subject,
        bank_in_footer=kind not in {"customer"},
    )
    fields: dict[str, Any] = {
        "letter_date": ctx.date.isoformat(),
        "subject": scenario.subject,
        "sender_name": ctx.sender.name,
    }
    if scenario.deadline is not None:
        fields["deadline"] = scenario.deadline.isoformat()
    fields["summary"] = scenario.summary
    if ctx.customer_number is not None and any(v == ctx.customer_number for _, v in draft.info):
        fields["customer_number"] = ctx.customer_number
    fields.update(scenario.extra)
    return Composed(draft, "letter", None, fields, recipient_truth, [f"letter:{kind}"])


# --------------------------------------------------------------------------------------------
# Other papers
# --------------------------------------------------------------------------------------------

CONTRACT_TITLES = {
    "kaeltetechnik": (
        "Wartungsvertrag Kälteanlagen",
        "Wartung und Instandhaltung der Kühl- und Tiefkühlanlagen",
    ),
    "it_service": (
        "IT-Servicevertrag",
        "Betreuung der IT-Infrastruktur (Server, Arbeitsplätze, Netzwerk)",
    ),
    "reinigung": ("Reinigungsvertrag", "Unterhaltsreinigung der Betriebs- und Büroräume"),
    "hausmeister": (
        "Dienstleistungsvertrag Hausmeisterservice",
        "Hausmeister- und Winterdienst am Objekt",
    ),
    "telekom": (
        "Vertrag über Telekommunikationsleistungen",
        "Bereitstellung eines Glasfaser-Geschäftsanschlusses",
    ),
    "hosting": ("Hosting-Vertrag", "Betrieb eines verwalteten Servers und Datensicherung"),
    "landlord": ("Gewerbemietvertrag", "Vermietung von Gewerberäumen"),
}


def compose_contract(ctx: Ctx) -> Composed:
    """A contract with §-paragraphs over two or three pages, sent for signature."""
    rng = ctx.rng
    key = ctx.sender.kind if ctx.sender.kind == "landlord" else ctx.sender.category
    title, purpose = CONTRACT_TITLES.get(key, ("Rahmenvertrag", "Lieferungen und Leistungen"))
    number = f"{rng.choice(('V', 'WV', 'DV', 'RV'))}-{ctx.date.year}-{rng.randint(100, 999)}"
    start = _first_of_next_month(ctx.date, rng.choice((1, 2)))
    fee = Decimal(rng.randint(8, 160) * 10) + Decimal(rng.choice(("0.00", "0.50", "0.90")))
    term = rng.choice((12, 24, 36))
    notice = rng.choice((1, 3, 3, 6))
    client = ctx.client
    sender = ctx.sender
    blocks: list[Block] = [
        Title(f"{title}", f"Vertragsnummer {number}"),
        Para("zwischen", space_after=3),
        Para(
            f"{sender.name}, {sender.street}, {sender.zip} {sender.city}", bold=True, space_after=2
        ),
        Para(
            f"– nachfolgend „{'Vermieter' if key == 'landlord' else 'Auftragnehmer'}“ genannt –",
            space_after=4,
        ),
        Para("und", space_after=3),
        Para(
            f"{client.name}, {client.street}, {client.zip} {client.city}", bold=True, space_after=2
        ),
        Para(
            f"– nachfolgend „{'Mieter' if key == 'landlord' else 'Auftraggeber'}“ genannt –",
            space_after=8,
        ),
    ]
    sections = [
        (
            "Vertragsgegenstand",
            [
                f"Gegenstand dieses Vertrags ist: {purpose}. Einzelheiten ergeben sich aus der "
                "Leistungsbeschreibung in Anlage 1, die Bestandteil dieses Vertrags ist."
            ],
        ),
        (
            "Leistungsumfang",
            [
                "Der Auftragnehmer erbringt die Leistungen fachgerecht nach dem Stand der "
                "Technik. Termine werden mit einer Frist von mindestens fünf Werktagen "
                "abgestimmt.",
                "Zusätzliche Leistungen werden nur nach schriftlicher Beauftragung erbracht und "
                "nach der jeweils gültigen Preisliste gesondert berechnet.",
            ],
        ),
        (
            "Vergütung",
            [
                f"Die monatliche Vergütung beträgt {fmt.money(fee, 'de_suffix')} zuzüglich der "
                "gesetzlichen Umsatzsteuer. Sie ist jeweils zum dritten Werktag eines Monats im "
                "Voraus fällig.",
                "Eine Anpassung der Vergütung ist frühestens nach zwölf Monaten und höchstens "
                "einmal jährlich zulässig.",
            ],
        ),
        (
            "Laufzeit und Kündigung",
            [
                f"Der Vertrag beginnt am {fmt.date(start, 'de_num')} und läuft zunächst {term} "
                "Monate. Er verlängert sich jeweils um zwölf Monate, wenn er nicht mit einer "
                f"Frist von {notice} Monat{'en' if notice > 1 else ''} zum Ende der Laufzeit "
                "gekündigt wird.",
                "Das Recht zur außerordentlichen Kündigung aus wichtigem Grund bleibt unberührt. "
                "Kündigungen bedürfen der Textform.",
            ],
        ),
        (
            "Haftung",
            [
                "Die Haftung für leicht fahrlässig verursachte Schäden ist auf den "
                "vertragstypischen, vorhersehbaren Schaden begrenzt. Dies gilt nicht für Schäden "
                "aus der Verletzung des Lebens, des Körpers oder der Gesundheit."
            ],
        ),
        (
            "Vertraulichkeit und Datenschutz",
            [
                "Die Parteien behandeln alle im Rahmen dieses Vertrags bekannt gewordenen "
                "Informationen vertraulich. Soweit personenbezogene Daten verarbeitet werden, "
                "schließen die Parteien eine gesonderte Vereinbarung nach Art. 28 DSGVO."
            ],
        ),
        (
            "Schlussbestimmungen",
            [
                "Änderungen und Ergänzungen dieses Vertrags bedürfen der Schriftform. Sollte "
                "eine Bestimmung unwirksam sein, bleibt die Wirksamkeit der übrigen Bestimmungen "
                "unberührt.",
                f"Gerichtsstand ist {sender.city}, soweit gesetzlich zulässig.",
            ],
        ),
    ]
    if rng.random() < 0.5:
        sections.insert(
            4,
            (
                "Pflichten des Auftraggebers",
                [
                    "Der Auftraggeber gewährt zu den vereinbarten Terminen Zugang zu den Räumen "
                    "und Anlagen und benennt einen Ansprechpartner."
                ],
            ),
        )
    for i, (heading, paragraphs) in enumerate(sections, start=1):
        blocks.append(Para(f"§ {i} {heading}", bold=True, space_after=3, keep_with_next=True))
        for j, paragraph in enumerate(paragraphs, start=1):
            text = f"({j}) {paragraph}" if len(paragraphs) > 1 else paragraph
            blocks.append(Para(text, space_after=5))
    blocks.append(
        SignatureFields(
            [f"{client.city}, den", "Auftraggeber" if key != "landlord" else "Mieter"],
            [
                f"{sender.city}, {fmt.date(ctx.date, 'de_num')}",
                "Auftragnehmer" if key != "landlord" else "Vermieter",
            ],
        )
    )
    info = [("Vertragsnummer", number), ("Datum", fmt.date(ctx.date, ctx.sender.style.date_style))]
    draft, _, recipient_truth = base_draft(
        ctx,
        title=title,
        info=info,
        blocks=blocks,
        running=f"{title} {number}",
        pdf_title=f"{title} {number}",
    )
    draft.always_page_numbers = True
    fields = {
        "issue_date": ctx.date.isoformat(),
        "subject": f"{title} {number}",
        "contract_number": number,
        "contract_start": start.isoformat(),
        "monthly_fee": fmt.canonical_amount(fee),
        "sender_name": sender.name,
    }
    return Composed(draft, "other", "contract", fields, recipient_truth)


def compose_tax_office(ctx: Ctx) -> Composed:
    """A Finanzamt letter quoting the client's Steuernummer: request, reminder or assessment."""
    rng = ctx.rng
    stnr = ctx.profile.tax_number
    year = ctx.date.year
    choice = rng.choice(("anforderung", "erinnerung", "bescheid"))
    deadline = _later(ctx, 14, 30)
    fields: dict[str, Any] = {"issue_date": ctx.date.isoformat()}
    blocks: list[Block] = []
    if choice == "anforderung":
        subject = f"Umsatzsteuer {year - 1} – Anforderung von Unterlagen"
        paragraphs = [
            f"zur Bearbeitung Ihrer Umsatzsteuererklärung {year - 1} benötige ich noch folgende "
            "Unterlagen:",
            "– Rechnungen über Vorsteuerbeträge von mehr als 1.000 Euro\n– Nachweise zu "
            "innergemeinschaftlichen Erwerben\n– Aufstellung der Anzahlungen",
            f"Bitte reichen Sie die Unterlagen bis zum {fmt.date(deadline, 'de_num')} ein. Sie "
            "können diese auch elektronisch über Mein ELSTER übermitteln.",
        ]
        fields["deadline"] = deadline.isoformat()
    elif choice == "erinnerung":
        month = fmt.GERMAN_MONTHS[(ctx.date.month - 2) % 12]
        subject = (
            f"Erinnerung: Umsatzsteuer-Voranmeldung {month} "
            f"{year if ctx.date.month > 1 else year - 1}"
        )
        paragraphs = [
            f"die Umsatzsteuer-Voranmeldung für {month} ist bei mir bisher nicht eingegangen.",
            f"Ich bitte Sie, die Voranmeldung bis zum {fmt.date(deadline, 'de_num')} "
            "nachzureichen. Wird die Anmeldung nicht fristgerecht abgegeben, kann ein "
            "Verspätungszuschlag festgesetzt werden (§ 152 AO).",
        ]
        fields["deadline"] = deadline.isoformat()
    else:
        amount = Decimal(rng.randint(150, 8000)) + Decimal(rng.randint(0, 99)) / 100
        due = ctx.date + dt.timedelta(days=rng.choice((30, 31, 33)))
        subject = f"Bescheid für {year - 2} über Umsatzsteuer"
        paragraphs = [
            f"die Umsatzsteuer für das Kalenderjahr {year - 2} wird festgesetzt. Die "
            f"Abschlusszahlung beträgt {fmt.money(amount, 'de_suffix')} und ist bis zum "
            f"{fmt.date(due, 'de_num')} zu entrichten.",
            "Die Festsetzung beruht auf § 18 Abs. 3 UStG. Der Bescheid ist nach § 164 AO "
            "vorläufig hinsichtlich der Höhe der Vorsteuerbeträge.",
            "Rechtsbehelfsbelehrung: Gegen diesen Bescheid ist der Einspruch zulässig. Er ist "
            "beim oben bezeichneten Finanzamt schriftlich einzureichen, diesem elektronisch zu "
            "übermitteln oder dort zur Niederschrift zu erklären. Die Frist für die Einlegung "
            "des Einspruchs beträgt einen Monat.",
        ]
        blocks_table = Table(
            [Column("Festsetzung", 3.0), Column("Betrag", 1.2, "r")],
            [
                [
                    "Umsatzsteuer festgesetzt",
                    fmt.money(amount + Decimal(rng.randint(2000, 30000)), "de_suffix"),
                ],
                ["Abschlusszahlung", fmt.money(amount, "de_suffix")],
            ],
        )
        blocks.append(blocks_table)
        fields["amount"] = fmt.canonical_amount(amount)
        fields["due_date"] = due.isoformat()
    fields["subject"] = subject
    fields["tax_number"] = stnr
    fields["sender_name"] = ctx.sender.name
    body: list[Block] = [
        Para(subject, bold=True, space_after=8),
        Para("Sehr geehrte Damen und Herren,", space_after=5),
    ]
    for paragraph in paragraphs:
        if paragraph.startswith("–"):
            for item in paragraph.split("\n"):
                body.append(Para(item, indent=5 * MM, space_after=1))
            body.append(Spacer(4))
        else:
            body.append(
                Para(
                    paragraph,
                    space_after=6,
                    size_delta=-0.5 if paragraph.startswith("Rechtsbehelf") else 0,
                )
            )
    body = body[:3] + blocks + body[3:]
    person_name = ctx.sender.people[0] if ctx.sender.people else "Sachbearbeitung"
    body.append(
        Signature(
            closing(ctx, formal=True), ["Im Auftrag", person_name], seed=rng.randint(1, 10**6)
        )
    )
    info = [
        ("Steuernummer", stnr),
        ("Bearbeitet von", person_name),
        ("Zimmer", str(rng.randint(101, 460))),
        ("Datum", fmt.date(ctx.date, "de_num")),
    ]
    draft, _, recipient_truth = base_draft(
        ctx, title=None, info=info, blocks=body, running=f"Steuernummer {stnr}", pdf_title=subject
    )
    return Composed(draft, "other", "tax_office", fields, recipient_truth)


def compose_bank_statement(ctx: Ctx, counterparties: list[Sender]) -> Composed:
    """A Kontoauszug for the client's account with a balanced transaction table."""
    rng = ctx.rng
    client = ctx.client
    period_end = ctx.date - dt.timedelta(days=ctx.date.day)
    period_start = period_end.replace(day=1)
    number = f"{period_end.month}/{period_end.year}"
    opening = Decimal(rng.randint(150000, 4500000)) / 100
    sh_style = rng.random() < 0.4
    rows: list[list[str]] = []
    balance = opening
    names = [s for s in counterparties if s.kind == "supplier"] or counterparties
    day = period_start
    n = rng.randint(7, 12)
    for _ in range(n):
        day = min(period_end, day + dt.timedelta(days=rng.randint(0, 3)))
        while day.weekday() >= 5 and day < period_end:
            day += dt.timedelta(days=1)
        kind = rng.random()
        if kind < 0.45:
            who = rng.choice(names)
            amount = -(Decimal(rng.randint(2000, 250000)) / 100)
            text = (
                f"SEPA-Überweisung an {who.name} "
                f"{invoice_number(who, day - dt.timedelta(days=rng.randint(5, 30)))}"
            )
        elif kind < 0.6:
            who = rng.choice(names)
            amount = -(Decimal(rng.randint(1500, 60000)) / 100)
            text = f"SEPA-Lastschrift {who.name} Mandat MR-{rng.randint(100000, 999999)}"
        elif kind < 0.9:
            _, first, sur = person(rng)
            payer = rng.choice(
                (f"{first} {sur}", f"{rng.choice(FANTASY)} GmbH", f"{rng.choice(SURNAMES)} KG")
            )
            amount = Decimal(rng.randint(5000, 800000)) / 100
            text = f"SEPA-Gutschrift von {payer} RG {rng.randint(2025001, 2026999)}"
        else:
            amount = -(Decimal(rng.choice(("9.90", "12.50", "14.95", "24.90"))))
            text = "Kontoführungsentgelt" if rng.random() < 0.5 else "Entgelt Kartenzahlungen"
        balance += amount
        value_day = day + dt.timedelta(days=rng.choice((0, 0, 1)))
        if sh_style:
            shown = f"{fmt.number(abs(amount))} {'H' if amount > 0 else 'S'}"
        else:
            shown = f"{'+' if amount > 0 else '-'}{fmt.number(abs(amount))}"
        rows.append([fmt.date(day, "de_short"), fmt.date(value_day, "de_short"), text, shown])
    closing_balance = balance
    blocks: list[Block] = [
        Title(
            f"Kontoauszug {number}",
            f"Zeitraum {fmt.date(period_start, 'de_num')} bis {fmt.date(period_end, 'de_num')}",
        ),
        Para(f"Kontoinhaber: {client.name}", space_after=2),
        Para(
            f"IBAN {fmt.iban_groups(client.iban)}  BIC {ctx.profile.bic or ctx.sender.bic}",
            space_after=6,
        ),
        Totals([("Alter Kontostand", f"{fmt.number(opening)} EUR", False)]),
        Table(
            [
                Column("Buchung", 0.9),
                Column("Wert", 0.9),
                Column("Vorgang / Verwendungszweck", 4.2),
                Column("Betrag EUR", 1.4, "r"),
            ],
            rows,
            wrap_column=2,
        ),
        Totals([("Neuer Kontostand", f"{fmt.number(closing_balance)} EUR", True)]),
        Para(
            "Bitte prüfen Sie die Buchungen. Einwendungen gegen Rechnungsabschlüsse sind "
            "innerhalb von sechs Wochen nach Zugang zu erheben.",
            size_delta=-1.5,
        ),
    ]
    info = [("Auszug", number), ("Datum", fmt.date(ctx.date, "de_num"))]
    draft, _, recipient_truth = base_draft(
        ctx,
        title=None,
        info=info,
        blocks=blocks,
        running=f"Kontoauszug {number}",
        pdf_title=f"Kontoauszug {number}",
        bank_in_footer=False,
    )
    fields = {
        "issue_date": ctx.date.isoformat(),
        "subject": f"Kontoauszug {number}",
        "statement_number": number,
        "iban": client.iban,
        "opening_balance": fmt.canonical_amount(opening),
        "closing_balance": fmt.canonical_amount(closing_balance),
        "sender_name": ctx.sender.name,
    }
    return Composed(draft, "other", "bank_statement", fields, recipient_truth)


def compose_advertising(ctx: Ctx) -> Composed:
    """An advert/offer letter with prices, which must not be mistaken for an invoice."""
    rng = ctx.rng
    valid = _later(ctx, 14, 40)
    season = rng.choice(
        ("Frühjahrsaktion", "Sommerangebot", "Jubiläumsangebot", "Sonderaktion für Stammkunden")
    )
    subject = f"{season}: bis zu {rng.choice((10, 15, 20, 25, 30))} % Rabatt"
    candidates = make_lines(ctx, 8, zero_vat=False)
    goods = [
        ln for ln in candidates if ln.unit not in {"psch.", "Std.", "Monat", "kWh", "Woche", "MA"}
    ]
    lines = (goods or candidates)[: rng.randint(3, 5)]
    rows = []
    for ln in lines:
        old = ln.unit_price
        new = fmt.cents(old * Decimal(rng.choice(("0.85", "0.80", "0.75", "0.90"))))
        rows.append([ln.description, f"statt {fmt.number(old)} €", f"nur {fmt.number(new)} €"])
    blocks: list[Block] = [
        Title(subject),
        Para(salutation(ctx), space_after=5),
        Para(
            rng.choice(
                (
                    "als geschätzter Kunde erhalten Sie exklusiv unsere neuen Aktionspreise. "
                    "Sichern Sie sich jetzt Ihre Vorteile!",
                    "zum Saisonstart haben wir für Sie ausgewählte Artikel deutlich im Preis "
                    "reduziert.",
                )
            )
        ),
        Table(
            [
                Column("Artikel", 4.0),
                Column("Normalpreis", 1.4, "r"),
                Column("Aktionspreis", 1.4, "r"),
            ],
            rows,
            wrap_column=0,
        ),
        Para(
            f"Alle Preise zzgl. MwSt. Angebot gültig bis {fmt.date(valid, 'de_num')} bzw. solange "
            "der Vorrat reicht.",
            size_delta=-1,
        ),
        Para(
            f"Jetzt bestellen: Telefon {ctx.sender.phone} oder per E-Mail an {ctx.sender.email}.",
            bold=True,
        ),
        Para(
            "Sie erhalten dieses Schreiben, weil Sie bei uns Kunde sind. Sie können der "
            "Verwendung Ihrer Daten für Werbung jederzeit widersprechen.",
            size_delta=-2,
        ),
    ]
    name, _ = signer(ctx)
    blocks.append(Signature(closing(ctx), [name, "Vertrieb"], seed=rng.randint(1, 10**6)))
    info = [("Datum", fmt.date(ctx.date, ctx.sender.style.date_style))]
    draft, _, recipient_truth = base_draft(
        ctx,
        title=subject,
        info=info,
        blocks=blocks,
        running=season,
        pdf_title=subject,
        bank_in_footer=False,
    )
    fields = {
        "issue_date": ctx.date.isoformat(),
        "subject": subject,
        "valid_until": valid.isoformat(),
        "sender_name": ctx.sender.name,
    }
    return Composed(draft, "other", "advertising", fields, recipient_truth)


__all__ = [
    "SCENARIOS",
    "compose_advertising",
    "compose_bank_statement",
    "compose_contract",
    "compose_letter",
    "compose_tax_office",
]
