//! cors (being written).
