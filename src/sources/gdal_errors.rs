//! Errors GDAL raises while a layer is read.
//!
//! Some drivers report a corrupt or truncated file only through GDAL's error
//! handler and then simply stop returning features: an OpenStreetMap PBF cut
//! off halfway yields "An error occurred during the parsing of data around
//! byte ..." and a fraction of its features, with no error from the
//! iterator. So the readers fetch features inside [`capture`], which
//! collects the failures GDAL raises on the current thread meanwhile.
//!
//! GDAL has one process-wide handler; the gdal crate exposes only that one,
//! not GDAL's per-thread handler stack. It is installed once, keeps the
//! messages of threads that are capturing, and passes every other message
//! to `tracing` (where GDAL's default handler would print it to stderr).

use std::cell::RefCell;
use std::sync::Once;

use gdal::errors::CplErrType;

thread_local! {
    /// Failures raised on this thread while it captures; `None` otherwise.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    /// Warnings raised on this thread while it counts them; `None` otherwise.
    static WARNINGS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

fn install_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        gdal::config::set_error_handler(|class, number, message| {
            let failure = matches!(class, CplErrType::Failure | CplErrType::Fatal);
            let kept = failure
                && CAPTURED.with(|c| {
                    c.try_borrow_mut()
                        .ok()
                        .and_then(|mut c| c.as_mut().map(|v| v.push(message.to_owned())))
                        .is_some()
                });
            let warning_kept = class == CplErrType::Warning
                && WARNINGS.with(|c| {
                    c.try_borrow_mut()
                        .ok()
                        .and_then(|mut c| c.as_mut().map(|v| v.push(message.to_owned())))
                        .is_some()
                });
            if kept || warning_kept {
                return;
            }
            match class {
                CplErrType::None => {}
                CplErrType::Debug => tracing::debug!(target: "gdal", number, "{message}"),
                CplErrType::Warning => tracing::warn!(target: "gdal", number, "{message}"),
                CplErrType::Failure | CplErrType::Fatal => {
                    tracing::error!(target: "gdal", number, "{message}");
                }
            }
        });
    });
}

/// Puts back the capture state of the thread (that of an enclosing
/// [`capture`], or none) when dropped, also on panic.
struct Restore(Option<Vec<String>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0.take();
        CAPTURED.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                *c = outer;
            }
        });
    }
}

/// Runs `f` and returns its result with the messages of the failures
/// (`CE_Failure`, `CE_Fatal`) GDAL raised on this thread meanwhile.
pub(crate) fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    install_handler();
    let outer = CAPTURED.with(|c| c.borrow_mut().replace(Vec::new()));
    let _restore = Restore(outer);
    let value = f();
    let failures = CAPTURED.with(|c| c.borrow_mut().as_mut().map(std::mem::take));
    (value, failures.unwrap_or_default())
}

/// Runs `f` and returns its result with the warnings (`CE_Warning`) GDAL
/// raised on this thread meanwhile, which then do not reach the log: for a
/// reader that reports them once, with their file, instead of a log line
/// each. Not nested: an inner call takes the warnings for itself.
pub(crate) fn capture_warnings<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    install_handler();
    let outer = WARNINGS.with(|c| c.borrow_mut().replace(Vec::new()));
    let value = f();
    let warnings = WARNINGS.with(|c| {
        let mut c = c.borrow_mut();
        let mine = c.as_mut().map(std::mem::take);
        *c = outer;
        mine
    });
    (value, warnings.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_counted_not_logged() {
        // GDAL accepts a ring that does not close, with a warning.
        use gdal::vector::{Geometry, OGRwkbGeometryType};
        let (added, warnings) = capture_warnings(|| -> gdal::errors::Result<()> {
            let mut ring = Geometry::empty(OGRwkbGeometryType::wkbLinearRing)?;
            for p in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)] {
                ring.add_point_2d(p);
            }
            let mut polygon = Geometry::empty(OGRwkbGeometryType::wkbPolygon)?;
            polygon.add_geometry(ring)
        });
        let geometry = added;
        assert!(geometry.is_ok());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("Non closed ring"), "{warnings:?}");
        // Outside a capture, nothing is kept.
        let ((), none) = capture_warnings(|| ());
        assert!(none.is_empty());
    }
}
