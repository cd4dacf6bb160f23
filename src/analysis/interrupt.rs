//! A flag long analyses poll, so work nobody waits for any more stops.
//!
//! An area profile over a large or many-vertex area can run for many
//! seconds on a blocking thread. When the request that asked for it is
//! abandoned (its time budget ran out, or the client went away), the API
//! raises the flag and the analysis returns [`AnalysisError::Interrupted`]
//! at its next check instead of computing an answer no one will read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::AnalysisError;

/// Origins, assets or other items visited between two checks: a check is
/// one atomic load, and a few thousand items take well under a millisecond.
pub const CHECK_EVERY: usize = 4096;

/// A cancellation flag shared between the waiting side and the worker.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Option<Arc<AtomicBool>>);

impl Interrupt {
    /// A flag that is never raised (command-line runs, tests).
    #[must_use]
    pub fn never() -> Self {
        Self(None)
    }

    /// A new, lowered flag.
    #[must_use]
    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicBool::new(false))))
    }

    /// Raises the flag: every holder's next [`Self::check`] fails.
    pub fn raise(&self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the flag is raised.
    #[must_use]
    pub fn is_raised(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// `Ok` while the flag is lowered.
    ///
    /// # Errors
    /// [`AnalysisError::Interrupted`] once it is raised.
    pub fn check(&self) -> Result<(), AnalysisError> {
        if self.is_raised() {
            Err(AnalysisError::Interrupted)
        } else {
            Ok(())
        }
    }

    /// [`Self::check`] on every [`CHECK_EVERY`]th item (`i` counts items).
    ///
    /// # Errors
    /// [`AnalysisError::Interrupted`] once the flag is raised.
    pub fn check_at(&self, i: usize) -> Result<(), AnalysisError> {
        if i.is_multiple_of(CHECK_EVERY) {
            self.check()
        } else {
            Ok(())
        }
    }
}

/// Raises an [`Interrupt`] when dropped: held by the future awaiting a
/// worker, so dropping that future (time budget, disconnect) stops the work.
#[derive(Debug)]
pub struct RaiseOnDrop(pub Interrupt);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.raise();
    }
}
