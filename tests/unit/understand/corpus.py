"""Small realistic German post for the understanding tests.

Hand-written documents cover the tricky cases one by one (OCR damage, two VAT rates, English,
Kleinbetragsrechnung, credit note, dunning stages, a letter about an invoice, other post). They
are deliberately unlike :mod:`backoffice.understand.seed_corpus`, so they also serve as
out-of-distribution checks for the classifier.
"""

from __future__ import annotations

INVOICE_CLASSIC = """\
Elektro Blitz GmbH · Lindenallee 4 · 04109 Leipzig
Müller Bau GmbH
Herrn Peter Müller
Invalidenstraße 12
10115 Berlin

                                                        Leipzig, 03.03.2026
Rechnung Nr. RE-2026-0117
Kundennummer: K-4711
Leistungsdatum: 27.02.2026

Sehr geehrter Herr Müller,
für die ausgeführten Elektroarbeiten berechnen wir Ihnen:

Pos  Beschreibung                         Menge   Einzelpreis    Gesamt
1    Austausch Unterverteilung            1       840,00 €       840,00 €
2    Arbeitszeit Elektriker (Std.)        4       65,00 €        260,00 €

Nettobetrag                                                    1.100,00 €
zzgl. 19 % MwSt.                                                 209,00 €
Gesamtbetrag                                                   1.309,00 €

Zahlbar innerhalb 14 Tagen netto. Bei Zahlung innerhalb von 7 Tagen gewähren wir 2 % Skonto.
Bitte überweisen Sie den Betrag unter Angabe der Rechnungsnummer.

Elektro Blitz GmbH · Geschäftsführer: Ralf Blitz · Amtsgericht Leipzig HRB 12345
Sparkasse Leipzig · IBAN: DE89 3704 0044 0532 0130 00 · BIC: COBADEFFXXX
USt-IdNr.: DE136695976 · Steuernummer: 231/114/50560
"""

INVOICE_TWO_RATES_OCR = """\
Feinkost Sonnenschein e.K. | Marktplatz 3 | 20095 Hamburg
Schreinerei Holzwurm e.K.
Domstr. 5
50667 Köln

Rechnungs-Nr.: 2O26/O815
Rechnungsdatum: 3. März 2026
Lieferdatum: 02.03.2026

Artikel                    Menge    Preis     USt    Betrag
Kaffee 1 kg                2        18,50     7 %    37,00
Präsentkorb                1        42,00     19 %   42,00

Summe netto                                          79,00
USt 7 % auf 37,00                                     2,59
USt 19 % auf 42,00                                    7,98
Rechnungsbetrag                                      89,57 EUR

Zahlungsziel: 30 Tage ohne Abzug
IBAN DE89 37O4 OO44 O532 O13O OO
USt-IdNr. DE l36695976
"""

INVOICE_ENGLISH = """\
Cloudy Hosting Ltd. - 1 King Street - London EC2V 8AU
Bäckerei Sonnenschein GmbH
Mönckebergstraße 7
20095 Hamburg
Germany

INVOICE
Invoice No. INV-88231
Invoice date: March 3, 2026
Due date: March 17, 2026

Service period 01.02.2026 - 28.02.2026
Managed server S               1       120.00
Net total                              120.00
VAT 0 %                                  0.00
Total amount due                 EUR   120.00

Reverse charge: tax liability of the recipient (Steuerschuldnerschaft des Leistungsempfängers).
VAT ID: GB980780684
"""

INVOICE_SMALL = """\
Tankstelle Weber
Hauptstr. 1, 12345 Musterstadt
Quittung / Rechnung
Beleg-Nr. 4471   Datum 15.3.26
Super E10  32,14 l  x 1,859   59,75
Gesamt EUR 59,75
darin 19% MwSt 9,54
Vielen Dank für Ihren Besuch!
"""

INVOICE_CREDIT = """\
Büromarkt Schulz GmbH · Am Hafen 9 · 28195 Bremen
Müller Bau GmbH
Invalidenstraße 12
10115 Berlin

Gutschrift Nr. GS-2026-004
Datum: 10.03.2026
zu Rechnung RE-2026-0099 vom 01.03.2026

Rücksendung Druckerpatronen        -50,00
Nettobetrag                         -50,00 €
MwSt 19 %                            -9,50 €
Gesamtbetrag                        -59,50 €
Der Betrag wird Ihrem Konto gutgeschrieben.
USt-IdNr.: DE136695976
"""

REMINDER_FIRST = """\
Büromarkt Schulz GmbH · Am Hafen 9 · 28195 Bremen
Müller Bau GmbH
Invalidenstraße 12
10115 Berlin
                                                 Bremen, 20.03.2026
Zahlungserinnerung

Sehr geehrte Damen und Herren,
sicher haben Sie in der Hektik des Alltags übersehen, dass folgende Rechnung noch offen ist:

Rechnung Nr. RE-2026-0099 vom 01.03.2026 über 1.190,00 €

Bitte überweisen Sie den offenen Betrag bis zum 31.03.2026 auf unser Konto
IBAN DE89 3704 0044 0532 0130 00.
Sollten Sie bereits gezahlt haben, betrachten Sie dieses Schreiben als gegenstandslos.

Mit freundlichen Grüßen
Büromarkt Schulz GmbH
"""

REMINDER_SECOND = """\
Elektro Blitz GmbH · Lindenallee 4 · 04109 Leipzig
Schreinerei Holzwurm e.K.
Domstr. 5
50667 Köln

Datum: 02.04.2026
Kunden-Nr.: 55012

2. Mahnung

Sehr geehrter Herr Holz,
trotz unserer Zahlungserinnerung vom 15.03.2026 konnten wir bis heute keinen Zahlungseingang
für die folgenden Rechnungen feststellen:

Rechnungsnr.     Datum         Betrag
RE-2026-0050     02.02.2026    500,00 €
RE-2026-0061     16.02.2026    250,00 €

Offener Betrag                 750,00 €
Mahngebühren                     5,00 €
Verzugszinsen                    3,12 €
Gesamtforderung                758,12 €

Bitte begleichen Sie den Gesamtbetrag innerhalb von 7 Tagen.

Mit freundlichen Grüßen
"""

REMINDER_LAST = """\
Inkasso-frei Versand AG · Postfach 11 22 · 60311 Frankfurt
Bäckerei Sonnenschein GmbH
Mönckebergstraße 7
20095 Hamburg

Hamburg, den 5. Mai 2026
Letzte Mahnung vor Einleitung gerichtlicher Schritte
Rechnung 2026-4411 vom 10.02.2026

Sehr geehrte Damen und Herren,
leider sind Sie unserer Zahlungsaufforderung nicht nachgekommen. Wir fordern Sie letztmalig auf,
den Betrag von 2.380,00 € zuzüglich Mahnkosten von 10,00 € bis spätestens 15.05.2026 zu zahlen.
Andernfalls beantragen wir ohne weitere Ankündigung einen gerichtlichen Mahnbescheid.

Mit freundlichen Grüßen
"""

LETTER_PLAIN = """\
Hausverwaltung Krause · Gartenweg 2 · 10115 Berlin
Müller Bau GmbH
Invalidenstraße 12
10115 Berlin
                                                     Berlin, 12.03.2026
Betreff: Wartung der Heizungsanlage im Objekt Gartenweg 2

Sehr geehrte Damen und Herren,
wir möchten Ihnen mitteilen, dass die jährliche Wartung der Heizungsanlage am 24.03.2026
stattfindet. Bitte teilen Sie uns bis zum 20.03.2026 mit, ob der Termin für Sie passt.
Für Rückfragen stehen wir Ihnen gerne zur Verfügung.

Mit freundlichen Grüßen
Hausverwaltung Krause
"""

LETTER_ABOUT_INVOICE = """\
Schreinerei Holzwurm e.K. · Domstr. 5 · 50667 Köln
Müller Bau GmbH
Invalidenstraße 12
10115 Berlin

Köln, 18.03.2026
Ihre Anfrage vom 10.03.2026

Sehr geehrter Herr Müller,
vielen Dank für Ihre Anfrage. Gerne kommen wir am Dienstag vorbei, um die Maße für die
Einbauschränke aufzunehmen. Unterlagen zu den Holzarten legen wir Ihnen bei.
Bitte rufen Sie uns an, falls der Termin nicht passt.

Mit freundlichen Grüßen
Anton Holz
"""

OTHER_TAX = """\
Finanzamt Köln-Mitte · Am Weidenbach 2-4 · 50676 Köln
Schreinerei Holzwurm e.K.
Domstr. 5
50667 Köln

Steuernummer 214/5678/1234
Datum 14.03.2026
Bescheid für 2025 über Umsatzsteuer-Vorauszahlungen

Die Vorauszahlungen werden wie folgt festgesetzt. Rechtsbehelfsbelehrung: Gegen diesen
Bescheid ist der Einspruch gegeben. Der Einspruch ist innerhalb eines Monats einzulegen.
"""

OTHER_BANK = """\
Sparkasse KölnBonn
Kontoauszug Nr. 3/2026                           Blatt 1
Kontoinhaber: Schreinerei Holzwurm e.K.
IBAN DE89 3704 0044 0532 0130 00

Buchungstag  Wertstellung  Verwendungszweck                     Betrag
02.03.2026   02.03.2026    Überweisung Holzhandel Meyer        -1.250,00
05.03.2026   05.03.2026    Gutschrift Kunde Schmidt            +2.400,00
Alter Saldo 01.03.2026                                           8.112,40
Neuer Saldo 31.03.2026                                           9.262,40
"""

OTHER_AD = """\
Nur für kurze Zeit: 30 % Rabatt auf alle Bürostühle!
Jetzt bestellen und sparen – Ihr Gutschein-Code: FRUEHLING30
Kostenlose Lieferung ab 50 € Bestellwert. Besuchen Sie uns auf www.buero-welt.de
Sie möchten keine Werbung mehr erhalten? Hier abmelden.
"""

OTHER_CONTRACT = """\
Mietvertrag für gewerbliche Räume
zwischen der Immobilien Nord GmbH (Vermieter) und der Müller Bau GmbH (Mieter)
§ 1 Mietgegenstand: Büroräume im 2. OG, Invalidenstraße 12, 10115 Berlin
§ 2 Mietzeit: Das Mietverhältnis beginnt am 01.04.2026 und hat eine Laufzeit von 5 Jahren.
§ 3 Kündigung: Die Kündigungsfrist beträgt sechs Monate zum Quartalsende.
Unterschrift Vermieter                       Unterschrift Mieter
"""

LABELLED: list[tuple[str, str]] = [
    (INVOICE_CLASSIC, "invoice"),
    (INVOICE_TWO_RATES_OCR, "invoice"),
    (INVOICE_ENGLISH, "invoice"),
    (INVOICE_SMALL, "invoice"),
    (INVOICE_CREDIT, "invoice"),
    (REMINDER_FIRST, "reminder"),
    (REMINDER_SECOND, "reminder"),
    (REMINDER_LAST, "reminder"),
    (LETTER_PLAIN, "letter"),
    (LETTER_ABOUT_INVOICE, "letter"),
    (OTHER_TAX, "other"),
    (OTHER_BANK, "other"),
    (OTHER_AD, "other"),
    (OTHER_CONTRACT, "other"),
]
