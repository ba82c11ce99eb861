"""Exchange adapters and the connection pieces they share.

The shared part is small on purpose: the WebSocket client of the hot receive path
(:mod:`mdp.exchanges._ws`) and reconnect backoff (:mod:`mdp.exchanges._backoff`). Each
exchange has its own package (``binance/``) with its wire parsing, continuity rules and
REST; a new exchange copies an adapter rather than generalizing one (ARCHITECTURE.md).
"""
