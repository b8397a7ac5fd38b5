//! validate-jwt (being written).
