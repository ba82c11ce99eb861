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

CREATE INDEX trades_time ON trades (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX book_snapshots_time ON book_snapshots (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('book_snapshots', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX book_deltas_time ON book_deltas (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('book_deltas', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX bbo_time ON bbo (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('bbo', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX funding_time ON funding (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('funding', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX mark_prices_time ON mark_prices (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('mark_prices', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX liquidations_time ON liquidations (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('liquidations', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE UNIQUE INDEX candles_key ON candles (exchange, market, symbol, time, interval_ns, open_time_ns);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('candles', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX gaps_time ON gaps (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('gaps', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX resyncs_time ON resyncs (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('resyncs', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;

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

CREATE INDEX source_status_time ON source_status (time);

DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN PERFORM create_hypertable('source_status', 'time', chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);
END IF; END $$;
