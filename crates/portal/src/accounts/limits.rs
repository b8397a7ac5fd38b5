//! Sign-in attempts limited per account and per source address.

#[derive(Default)]
pub struct SigninLimits {}
