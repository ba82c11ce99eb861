-- Schema version 1: a table per record kind (docs/storage.md).

CREATE TABLE IF NOT EXISTS trades (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    trade_id Int64,
    price Decimal(38, 18),
    size Decimal(38, 18),
    side LowCardinality(String),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, trade_id);

CREATE TABLE IF NOT EXISTS book_snapshots (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    last_update_id Int64,
    bid_prices Array(Decimal(38, 18)),
    bid_sizes Array(Decimal(38, 18)),
    ask_prices Array(Decimal(38, 18)),
    ask_sizes Array(Decimal(38, 18)),
    checksum Nullable(Int64),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, last_update_id);

CREATE TABLE IF NOT EXISTS book_deltas (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    first_update_id Int64,
    final_update_id Int64,
    prev_final_update_id Nullable(Int64),
    bid_prices Array(Decimal(38, 18)),
    bid_sizes Array(Decimal(38, 18)),
    ask_prices Array(Decimal(38, 18)),
    ask_sizes Array(Decimal(38, 18)),
    checksum Nullable(Int64),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, final_update_id);

CREATE TABLE IF NOT EXISTS bbo (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    bid_price Decimal(38, 18),
    bid_size Decimal(38, 18),
    ask_price Decimal(38, 18),
    ask_size Decimal(38, 18),
    update_id Nullable(Int64),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, time_ns);

CREATE TABLE IF NOT EXISTS funding (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    rate Decimal(38, 18),
    predicted_rate Nullable(Decimal(38, 18)),
    funding_time_ns Nullable(Int64),
    next_funding_time_ns Nullable(Int64),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, time_ns);

CREATE TABLE IF NOT EXISTS mark_prices (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    mark_price Decimal(38, 18),
    index_price Nullable(Decimal(38, 18)),
    estimated_settle_price Nullable(Decimal(38, 18)),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, time_ns);

CREATE TABLE IF NOT EXISTS liquidations (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    side LowCardinality(String),
    price Decimal(38, 18),
    size Decimal(38, 18),
    average_price Nullable(Decimal(38, 18)),
    filled_size Nullable(Decimal(38, 18)),
    status String,
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, time_ns, side, price, size);

CREATE TABLE IF NOT EXISTS candles (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    interval_ns Int64,
    open_time_ns Int64,
    open Decimal(38, 18),
    high Decimal(38, 18),
    low Decimal(38, 18),
    close Decimal(38, 18),
    volume Decimal(38, 18),
    quote_volume Nullable(Decimal(38, 18)),
    trade_count Nullable(Int64),
    closed Bool,
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree(receive_time_ns)
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, interval_ns, open_time_ns);

CREATE TABLE IF NOT EXISTS gaps (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    stream String,
    first_missing Int64,
    last_missing Int64,
    reason String,
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, stream, first_missing, last_missing);

CREATE TABLE IF NOT EXISTS resyncs (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    stream String,
    reason String,
    old_sequence Nullable(Int64),
    new_sequence Nullable(Int64),
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, stream, time_ns);

CREATE TABLE IF NOT EXISTS source_status (
    exchange LowCardinality(String),
    market LowCardinality(String),
    symbol LowCardinality(String),
    native_symbol LowCardinality(String),
    time_ns Int64,
    receive_time_ns Int64,
    exchange_time_ns Nullable(Int64),
    match_time_ns Nullable(Int64),
    sequence Int64,
    quality_level UInt8,
    quality_reasons String,
    extra String,
    stream String,
    state LowCardinality(String),
    detail String,
    time DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (exchange, market, symbol, stream, time_ns, state);
