-- Schema version 1: a table per record kind (docs/storage.md).

DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS timescaledb;
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'no timescaledb: plain tables'; END $$;

CREATE TABLE trades (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    trade_id bigint NOT NULL,
    price numeric NOT NULL,
    size numeric NOT NULL,
    side text NOT NULL,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX trades_key ON trades (exchange, market, symbol, trade_id, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX trades_time ON trades (time); END IF; END $$;

CREATE TABLE book_snapshots (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    last_update_id bigint NOT NULL,
    bid_prices numeric[] NOT NULL,
    bid_sizes numeric[] NOT NULL,
    ask_prices numeric[] NOT NULL,
    ask_sizes numeric[] NOT NULL,
    checksum bigint,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX book_snapshots_key ON book_snapshots (exchange, market, symbol, last_update_id, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('book_snapshots', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX book_snapshots_time ON book_snapshots (time); END IF; END $$;

CREATE TABLE book_deltas (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    first_update_id bigint NOT NULL,
    final_update_id bigint NOT NULL,
    prev_final_update_id bigint,
    bid_prices numeric[] NOT NULL,
    bid_sizes numeric[] NOT NULL,
    ask_prices numeric[] NOT NULL,
    ask_sizes numeric[] NOT NULL,
    checksum bigint,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX book_deltas_key ON book_deltas (exchange, market, symbol, final_update_id, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('book_deltas', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX book_deltas_time ON book_deltas (time); END IF; END $$;

CREATE TABLE bbo (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    bid_price numeric NOT NULL,
    bid_size numeric NOT NULL,
    ask_price numeric NOT NULL,
    ask_size numeric NOT NULL,
    update_id bigint,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX bbo_key ON bbo (exchange, market, symbol, time_ns, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('bbo', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX bbo_time ON bbo (time); END IF; END $$;

CREATE TABLE funding (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    rate numeric NOT NULL,
    predicted_rate numeric,
    funding_time_ns bigint,
    next_funding_time_ns bigint,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX funding_key ON funding (exchange, market, symbol, time_ns, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('funding', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX funding_time ON funding (time); END IF; END $$;

CREATE TABLE mark_prices (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    mark_price numeric NOT NULL,
    index_price numeric,
    estimated_settle_price numeric,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX mark_prices_key ON mark_prices (exchange, market, symbol, time_ns, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('mark_prices', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX mark_prices_time ON mark_prices (time); END IF; END $$;

CREATE TABLE liquidations (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    side text NOT NULL,
    price numeric NOT NULL,
    size numeric NOT NULL,
    average_price numeric,
    filled_size numeric,
    status text NOT NULL,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX liquidations_key ON liquidations (exchange, market, symbol, time_ns, side, price, size, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('liquidations', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX liquidations_time ON liquidations (time); END IF; END $$;

CREATE TABLE candles (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    interval_ns bigint NOT NULL,
    open_time_ns bigint NOT NULL,
    open numeric NOT NULL,
    high numeric NOT NULL,
    low numeric NOT NULL,
    close numeric NOT NULL,
    volume numeric NOT NULL,
    quote_volume numeric,
    trade_count bigint,
    closed boolean NOT NULL,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX candles_key ON candles (exchange, market, symbol, interval_ns, open_time_ns, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('candles', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX candles_time ON candles (time); END IF; END $$;

CREATE TABLE gaps (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    stream text NOT NULL,
    first_missing bigint NOT NULL,
    last_missing bigint NOT NULL,
    reason text NOT NULL,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX gaps_key ON gaps (exchange, market, symbol, stream, first_missing, last_missing, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('gaps', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX gaps_time ON gaps (time); END IF; END $$;

CREATE TABLE resyncs (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    stream text NOT NULL,
    reason text NOT NULL,
    old_sequence bigint,
    new_sequence bigint,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX resyncs_key ON resyncs (exchange, market, symbol, stream, time_ns, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('resyncs', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX resyncs_time ON resyncs (time); END IF; END $$;

CREATE TABLE source_status (
    exchange text NOT NULL,
    market text NOT NULL,
    symbol text NOT NULL,
    native_symbol text NOT NULL,
    time_ns bigint NOT NULL,
    receive_time_ns bigint NOT NULL,
    exchange_time_ns bigint,
    match_time_ns bigint,
    sequence bigint NOT NULL,
    quality_level smallint NOT NULL,
    quality_reasons text NOT NULL,
    extra text NOT NULL,
    stream text NOT NULL,
    state text NOT NULL,
    detail text NOT NULL,
    time timestamptz NOT NULL
);

CREATE UNIQUE INDEX source_status_key ON source_status (exchange, market, symbol, stream, time_ns, state, time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('source_status', 'time', chunk_time_interval => INTERVAL '1 day');
ELSE CREATE INDEX source_status_time ON source_status (time); END IF; END $$;
