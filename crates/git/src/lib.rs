//! The Git configuration repository (APIM's "scm" endpoint): the configuration as the APIOps
//! artifact layout ([`layout`]), kept as a bare repository whose `main` branch gains a commit
//! for every configuration change, and served over Git's smart HTTP protocol so that a pushed
//! tree is validated whole and deployed atomically.

pub mod layout;

pub use layout::{FileProblem, Files, LayoutError};
