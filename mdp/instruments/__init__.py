"""Instrument metadata: the registry of canonical instruments and the symbols file."""

from mdp.instruments._cache import InstrumentCache
from mdp.instruments._registry import LIVE, InstrumentKey, InstrumentRegistry
from mdp.instruments._symbols_file import InstrumentEntry, SymbolsFile, load_symbols

__all__ = [
    "LIVE",
    "InstrumentCache",
    "InstrumentEntry",
    "InstrumentKey",
    "InstrumentRegistry",
    "SymbolsFile",
    "load_symbols",
]
