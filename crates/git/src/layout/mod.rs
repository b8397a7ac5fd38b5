//! The configuration as files in the APIOps artifact layout, and back.
