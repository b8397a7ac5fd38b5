//! Policy caches (being written).
