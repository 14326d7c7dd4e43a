"""Content negotiation and CSV text for the endpoints that also answer in other formats."""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Final

JSON: Final = "application/json"
CSV: Final = "text/csv"
MARKDOWN: Final = "text/markdown"

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# a name or an address is data, so such a cell is prefixed with an apostrophe.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def negotiate(accept: str | None, offers: Sequence[str]) -> str:
    """The offer the Accept header prefers (RFC 9110 12.5.1); the first offer by default.

    Ties go to the earlier offer, so `*/*` or no header gets the first. A header that
    accepts none of the offers also gets the first: a body the client can read as an
    error is more use to it than a 406.
    """
    if not accept:
        return offers[0]
    best, best_q = offers[0], 0.0
    for offer in offers:
        q = _quality(accept, offer)
        if q > best_q:
            best, best_q = offer, q
    return best


def _quality(accept: str, offer: str) -> float:
    kind = offer.split("/")[0]
    found, specificity = 0.0, -1
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = media.lower()
        if media == offer:
            rank = 2
        elif media == f"{kind}/*":
            rank = 1
        elif media == "*/*":
            rank = 0
        else:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if rank > specificity:
            found, specificity = q, rank
    return found


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """RFC 4180 CSV (CRLF line ends), every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
