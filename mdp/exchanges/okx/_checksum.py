"""OKX's legacy ``books`` checksum, from the original price and size strings.

Up to 25 bids and 25 asks, interleaved ``bid1px:bid1sz:ask1px:ask1sz:…`` (a side that
runs out is skipped), CRC32 read as a signed 32-bit integer. Re-formatting a number
("3366.10" for "3366.1") changes the string and so the checksum: the book keeps the
strings as they came. Since 23 Jun 2026 OKX sends 0, which means "absent".
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

__all__ = ["checksum", "checksum_string"]

Strings = Sequence[tuple[str, str]]


def checksum_string(bids: Strings, asks: Strings) -> str:
    """Bids best first, asks best first, as (price, size) wire strings."""
    parts: list[str] = []
    for i in range(min(25, max(len(bids), len(asks)))):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    return ":".join(parts)


def checksum(bids: Strings, asks: Strings) -> int:
    crc = zlib.crc32(checksum_string(bids, asks).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc
