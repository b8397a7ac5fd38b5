//! What one evaluation may spend: steps, wall-clock time and memory, and which of them ran
//! out. A leaf, so errors (crates/expr/src/error.rs) can name a budget without depending on
//! the accounting in crates/expr/src/budget.rs.

use std::time::Duration;

/// Upper bound on evaluation steps per run, so a `while (true)` in a policy fails with an error
/// instead of pinning a worker thread.
pub const DEFAULT_STEP_BUDGET: u64 = 1_000_000;

/// The budgets of one evaluation. `gateway.limits.expression_timeout_ms` and
/// `expression_memory_bytes` configure the last two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps (a statement or an expression node each).
    pub steps: u64,
    /// Wall-clock time from the start of the evaluation.
    pub time: Duration,
    /// Bytes the evaluation's values may hold at once.
    pub memory: usize,
}

/// Default wall-clock budget (`gateway.limits.expression_timeout_ms`).
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_millis(100);
/// Default memory budget (`gateway.limits.expression_memory_bytes`).
pub const DEFAULT_MEMORY_BUDGET: usize = 16 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps: DEFAULT_STEP_BUDGET,
            time: DEFAULT_TIME_BUDGET,
            memory: DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// Which budget an evaluation exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    Steps,
    Time,
    Memory,
}

impl Budget {
    pub fn name(self) -> &'static str {
        match self {
            Budget::Steps => "step",
            Budget::Time => "time",
            Budget::Memory => "memory",
        }
    }
}
